// Before the first paint, so a dark system never flashes white: "light" | "dark" | absent (system).
// A file rather than an inline script: the Content-Security-Policy allows scripts from this origin only.
(function () {
  var saved = localStorage.getItem("postmetric-theme");
  var dark = saved ? saved === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.classList.toggle("dark", dark);
})();
