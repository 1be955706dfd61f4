/** Dark mode: the system's choice unless the toggle saved one ("light" | "dark"). */
const KEY = "postmetric-theme";

export function isDark(): boolean {
  return document.documentElement.classList.contains("dark");
}

export function setTheme(theme: "light" | "dark" | "system"): void {
  if (theme === "system") localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, theme);
  const dark = theme === "system" ? matchMedia("(prefers-color-scheme: dark)").matches : theme === "dark";
  document.documentElement.classList.toggle("dark", dark);
}

export function followSystemTheme(): void {
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", (event) => {
    if (!localStorage.getItem(KEY)) document.documentElement.classList.toggle("dark", event.matches);
  });
}
