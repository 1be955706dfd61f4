import { useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { Link, Navigate, Outlet, useLocation, useNavigate } from "react-router";
import { useSessionQuery } from "../hooks/queries";
import { api, ApiError, setCsrfToken } from "../lib/api";
import { isDark, setTheme } from "./theme";
import { ErrorBox, Spinner } from "./ui";

export function ThemeToggle() {
  const [dark, setDark] = useState(isDark());
  return (
    <button aria-label={dark ? "Switch to light mode" : "Switch to dark mode"} title="Toggle dark mode"
      className="rounded-md p-2 text-gray-600 hover:bg-gray-100 dark:text-gray-300 dark:hover:bg-gray-800"
      onClick={() => { setTheme(dark ? "light" : "dark"); setDark(!dark); }}>
      {dark ? "☀︎" : "☾"}
    </button>
  );
}

export function Shell({ children, right }: { children: ReactNode; right?: ReactNode }) {
  return (
    <div className="min-h-screen">
      <header className="border-b border-gray-200 bg-white dark:border-gray-800 dark:bg-gray-900">
        <div className="mx-auto flex max-w-6xl items-center justify-between gap-2 px-3 py-2 sm:px-6">
          <Link to="/sites" className="flex items-center gap-2 font-semibold">
            <img src="/favicon.svg" alt="" className="h-6 w-6" /> Postmetric
          </Link>
          <div className="flex items-center gap-1">{right}<ThemeToggle /></div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-3 py-4 sm:px-6 sm:py-6">{children}</main>
    </div>
  );
}

/** Pages behind the login: a 401 from the session endpoint goes to /login and back. */
export function RequireSession() {
  const session = useSessionQuery();
  const location = useLocation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [logoutError, setLogoutError] = useState<unknown>(null);
  if (session.isPending) return <Spinner />;
  if (session.error instanceof ApiError && session.error.status === 401) {
    return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  }
  if (session.error) return <Shell><ErrorBox error={session.error} /></Shell>;
  const logout = async () => {
    try {
      await api("/api/v1/auth/logout", { method: "POST" });
      setCsrfToken(null);
      queryClient.clear();
      navigate("/login");
    } catch (error) {
      setLogoutError(error);
    }
  };
  return (
    <Shell right={
      <>
        <Link to="/account" title="Account settings" className="rounded-md px-2 py-1 text-sm text-gray-600 hover:bg-gray-100 dark:text-gray-300 dark:hover:bg-gray-800">
          <span className="hidden sm:inline">{session.data.user.email}</span><span className="sm:hidden">Account</span>
        </Link>
        <button onClick={logout} className="rounded-md px-2 py-1 text-sm text-gray-600 hover:bg-gray-100 dark:text-gray-300 dark:hover:bg-gray-800">Log out</button>
      </>
    }>
      <ErrorBox error={logoutError} />
      <Outlet />
    </Shell>
  );
}
