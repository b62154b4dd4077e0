// The imgdenoise page: choose an image, denoise it through POST /v1/denoise, compare, download.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { file: null, beforeUrl: null, afterUrl: null };
const BROWSER_VIEWABLE = ["image/png", "image/jpeg", "image/bmp", "image/webp"];

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

async function loadModels() {
  const response = await fetch("/v1/models");
  const body = await response.json();
  for (const model of body.models) {
    const option = document.createElement("option");
    option.value = model.name;
    option.textContent = model.name === model.architecture ? model.name : `${model.name} (${model.architecture})`;
    $("model").append(option);
  }
  $("model").value = body.default;
}

function chooseFile(file) {
  if (!file) return;
  state.file = file;
  $("drop-text").textContent = `${file.name} (${Math.round(file.size / 1024)} KiB)`;
  $("run").disabled = false;
  $("download").classList.add("hidden");
  if (state.beforeUrl) URL.revokeObjectURL(state.beforeUrl);
  state.beforeUrl = URL.createObjectURL(file);
  showLayer("after", null);
  if (BROWSER_VIEWABLE.includes(file.type)) {
    showLayer("before", state.beforeUrl);
    setStatus("Ready.");
  } else {
    showLayer("before", null);
    setStatus("Ready. (Browsers cannot show this format: the result will be shown as PNG.)");
  }
}

// A layer is shown once its picture has loaded; without one it is hidden (never a broken-image icon).
function showLayer(id, url) {
  const image = $(id);
  image.hidden = true;
  if (url) image.src = url; else image.removeAttribute("src");
  layout();
}

async function denoise() {
  const form = new FormData();
  form.append("image", state.file);
  form.append("model", $("model").value);
  form.append("quality", $("quality").value);
  form.append("sigma", $("auto").checked ? "auto" : $("sigma").value);
  form.append("strength", $("strength").value);
  // Browsers cannot show TIFF: ask for a (16-bit) PNG of the same result instead.
  form.append("format", BROWSER_VIEWABLE.includes(state.file.type) ? "same" : "png");
  $("run").disabled = true;
  setStatus("Denoising...");
  try {
    const response = await fetch("/v1/denoise", { method: "POST", body: form });
    if (!response.ok) {
      const error = await response.json().catch(() => ({ detail: response.statusText }));
      throw new Error(error.detail || response.statusText);
    }
    const blob = await response.blob();
    if (state.afterUrl) URL.revokeObjectURL(state.afterUrl);
    state.afterUrl = URL.createObjectURL(blob);
    showLayer("after", state.afterUrl);
    const disposition = response.headers.get("Content-Disposition") || "";
    const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || "denoised.png";
    $("download").href = state.afterUrl;
    $("download").download = name;
    $("download").classList.remove("hidden");
    setStatus(`Done in ${response.headers.get("X-Processing-Seconds")} s with ${response.headers.get("X-Model")} ` +
              `(${response.headers.get("X-Quality")}, strength ${response.headers.get("X-Strength")}), ` +
              `sigma ${response.headers.get("X-Sigma")} (${response.headers.get("X-Sigma-Source")}).`);
  } catch (error) {
    setStatus(`Error: ${error.message}`, true);
  } finally {
    $("run").disabled = false;
  }
}

// Input left of the divider, result right of it: the result layer is clipped, both fill one box.
function applySplit() {
  const both = !$("before").hidden && !$("after").hidden;
  const percent = both ? Number($("split").value) : 0;
  $("after").style.clipPath = `inset(0 0 0 ${percent}%)`;
  $("divider").style.left = `${percent}%`;
  $("divider").hidden = !both;
}

// Size the stage (and so both layers) to the picture at the chosen zoom; "fit" fits it in the frame.
function layout() {
  const shown = [$("before"), $("after")].find((image) => !image.hidden && image.naturalWidth);
  $("stage").classList.toggle("hidden", !shown);
  $("empty").classList.toggle("hidden", Boolean(shown));
  if (!shown) return;
  const zoom = $("zoom").value;
  $("frame").classList.toggle("fit", zoom === "fit");
  const { naturalWidth: width, naturalHeight: height } = shown;
  const scale = zoom === "fit"
    ? Math.min(1, $("frame").clientWidth / width, $("frame").clientHeight / height)
    : Number(zoom);
  $("stage").style.width = `${Math.max(1, Math.floor(width * scale))}px`;
  $("stage").style.height = `${Math.max(1, Math.floor(height * scale))}px`;
  applySplit();
}

function onLayerLoad(event) {
  event.target.hidden = false;
  layout();
}

$("file").addEventListener("change", (event) => chooseFile(event.target.files[0]));
$("drop").addEventListener("dragover", (event) => { event.preventDefault(); $("drop").classList.add("over"); });
$("drop").addEventListener("dragleave", () => $("drop").classList.remove("over"));
$("drop").addEventListener("drop", (event) => {
  event.preventDefault();
  $("drop").classList.remove("over");
  chooseFile(event.dataTransfer.files[0]);
});
$("auto").addEventListener("change", () => {
  $("sigma").disabled = $("auto").checked;
  $("sigma-value").textContent = $("auto").checked ? "auto" : $("sigma").value;
});
$("sigma").addEventListener("input", () => { $("sigma-value").textContent = $("sigma").value; });
$("strength").addEventListener("input", () => { $("strength-value").textContent = Number($("strength").value).toFixed(2); });
$("run").addEventListener("click", denoise);
$("split").addEventListener("input", applySplit);
$("zoom").addEventListener("change", layout);
$("before").addEventListener("load", onLayerLoad);
$("after").addEventListener("load", onLayerLoad);
window.addEventListener("resize", layout);
$("frame").addEventListener("wheel", (event) => {
  if (!event.ctrlKey) return;  // ctrl + wheel steps through the zoom levels
  event.preventDefault();
  const options = [...$("zoom").options].map((o) => o.value);
  const index = options.indexOf($("zoom").value) + (event.deltaY < 0 ? 1 : -1);
  $("zoom").value = options[Math.max(0, Math.min(options.length - 1, index))];
  layout();
});
layout();
loadModels().catch((error) => setStatus(`Cannot list models: ${error.message}`, true));
