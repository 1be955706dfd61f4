/** Small primitives every screen uses. */
import type { ButtonHTMLAttributes, InputHTMLAttributes, ReactNode } from "react";

export function cx(...classes: (string | false | null | undefined)[]): string {
  return classes.filter(Boolean).join(" ");
}

export function Button({ variant = "primary", className, ...props }:
  ButtonHTMLAttributes<HTMLButtonElement> & { variant?: "primary" | "secondary" | "danger" | "ghost" }) {
  const styles = {
    primary: "bg-indigo-600 text-white hover:bg-indigo-500 disabled:bg-indigo-400",
    secondary: "border border-gray-300 bg-white text-gray-800 hover:bg-gray-50 dark:border-gray-700 dark:bg-gray-900 dark:text-gray-100 dark:hover:bg-gray-800",
    danger: "bg-red-600 text-white hover:bg-red-500 disabled:bg-red-400",
    ghost: "text-gray-600 hover:bg-gray-100 dark:text-gray-300 dark:hover:bg-gray-800",
  }[variant];
  return <button className={cx("rounded-md px-3 py-2 text-sm font-medium disabled:cursor-not-allowed", styles, className)} {...props} />;
}

export function Input({ label, className, ...props }: InputHTMLAttributes<HTMLInputElement> & { label: string }) {
  return (
    <label className="block text-sm">
      <span className="mb-1 block font-medium text-gray-700 dark:text-gray-300">{label}</span>
      <input className={cx("w-full rounded-md border border-gray-300 bg-white px-3 py-2 text-gray-900 focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500 disabled:cursor-not-allowed disabled:bg-gray-100 disabled:text-gray-500 dark:border-gray-700 dark:bg-gray-900 dark:text-gray-100 dark:disabled:bg-gray-800 dark:disabled:text-gray-400", className)} {...props} />
    </label>
  );
}

/** An API error, shown as it came: never swallowed. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div role="alert" className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
      {message}
    </div>
  );
}

export function Card({ children, className }: { children: ReactNode; className?: string }) {
  return <div className={cx("rounded-lg border border-gray-200 bg-white p-4 shadow-sm dark:border-gray-800 dark:bg-gray-900", className)}>{children}</div>;
}

export function Spinner({ label = "Loading…" }: { label?: string }) {
  return <p className="animate-pulse py-6 text-center text-sm text-gray-500 dark:text-gray-400">{label}</p>;
}

export function Tabs<T extends string>({ tabs, active, onChange }:
  { tabs: { id: T; label: string }[]; active: T; onChange: (id: T) => void }) {
  return (
    <div role="tablist" className="flex flex-wrap gap-x-3 gap-y-1 text-sm">
      {tabs.map((tab) => (
        <button key={tab.id} role="tab" aria-selected={tab.id === active} onClick={() => onChange(tab.id)}
          className={cx("border-b-2 pb-1 font-medium", tab.id === active
            ? "border-indigo-600 text-indigo-700 dark:border-indigo-400 dark:text-indigo-300"
            : "border-transparent text-gray-500 hover:text-gray-800 dark:text-gray-400 dark:hover:text-gray-200")}>
          {tab.label}
        </button>
      ))}
    </div>
  );
}
