import "./index.css";
document.getElementById("root")!.textContent = "Postmetric";
