import "./index.css";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { type ComponentType, StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createBrowserRouter, Navigate, RouterProvider } from "react-router";
import { RequireSession } from "./components/Layout";
import { followSystemTheme } from "./components/theme";
import { ErrorBox } from "./components/ui";
import { retryOnceUnlessRefused } from "./hooks/queries";
import {
  AcceptInvitationPage, ForgotPasswordPage, LoginPage, ResetPasswordPage, SignupPage,
} from "./routes/auth";
import { AddSitePage } from "./routes/AddSitePage";
import { SitesPage } from "./routes/SitesPage";

// Screens past the site list are separate chunks: the login page does not load Recharts.
const lazyPage = (load: () => Promise<{ default: ComponentType }>) => async () => ({ Component: (await load()).default });

const router = createBrowserRouter([
  { path: "/login", Component: LoginPage },
  { path: "/signup", Component: SignupPage },
  { path: "/forgot-password", Component: ForgotPasswordPage },
  { path: "/reset-password", Component: ResetPasswordPage },
  { path: "/invitations/:token", Component: AcceptInvitationPage },
  { path: "/share/:token", lazy: lazyPage(() => import("./routes/SharePage")) },
  {
    Component: RequireSession,
    children: [
      { path: "/", element: <Navigate to="/sites" replace /> },
      { path: "/sites", Component: SitesPage },
      { path: "/sites/new", Component: AddSitePage },
      { path: "/sites/:siteId", lazy: lazyPage(() => import("./routes/SitePage")) },
      { path: "/sites/:siteId/realtime", lazy: lazyPage(() => import("./routes/RealtimePage")) },
      { path: "/sites/:siteId/customers", lazy: lazyPage(() => import("./routes/CustomersPage")) },
      { path: "/sites/:siteId/visitors/:visitorId", lazy: lazyPage(() => import("./routes/VisitorPage")) },
      { path: "/sites/:siteId/settings/:section?", lazy: lazyPage(() => import("./routes/SettingsPage")) },
      { path: "/account", lazy: lazyPage(() => import("./routes/AccountPage")) },
      { path: "*", element: <ErrorBox error="There is no page at this address." /> },
    ],
  },
]);

const queryClient = new QueryClient({
  defaultOptions: { queries: { refetchOnWindowFocus: false, staleTime: 30_000, retry: retryOnceUnlessRefused } },
});

followSystemTheme();
createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
