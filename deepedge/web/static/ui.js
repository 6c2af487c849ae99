// Small DOM helpers the panels share (no inline styles or handlers: the page's CSP forbids them).
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter(c => c !== null && c !== undefined));
  return node;
}

export function header(section, title, about) {
  section.append(el("h2", {text: title}), el("p", {class: "about", text: about}));
}

export function modelPicker(entries, onChange) {
  const select = el("select", {"aria-label": "model"});
  for (const entry of entries) select.append(el("option", {value: entry.name, text: entry.name}));
  select.addEventListener("change", () => onChange(entries.find(e => e.name === select.value)));
  return select;
}

export function showBars(list, names, scores, top = 5) {
  const order = [...scores.keys()].sort((a, b) => scores[b] - scores[a]).slice(0, top);
  list.replaceChildren(...order.map((i, rank) => {
    const bar = el("div", {class: "bar"});
    bar.style.width = `${Math.max(1, 100 * scores[i])}%`;
    return el("li", {class: rank === 0 ? "best" : ""}, el("span", {text: names[i]}), el("div", {}, bar),
              el("span", {text: scores[i].toFixed(3)}));
  }));
}

export function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

// Shows an error in a panel's status line until its next report (`report`).
export function fail(node, error) {
  node.textContent = error.message || String(error);
  node.classList.add("error");
  console.error(error);
}

// Upload limits, checked before a file is read.
export const LIMITS = {
  image: {bytes: 10 * 1024 * 1024, types: ["image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"]},
  audio: {bytes: 20 * 1024 * 1024, types: ["audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"]},
};

export function checkUpload(file, kind) {
  const limit = LIMITS[kind];
  if (!limit.types.includes(file.type)) {
    throw new Error(`${file.name}: ${file.type || "unknown type"} is not accepted here; drop one of ${limit.types.join(", ")}.`);
  }
  if (file.size > limit.bytes) {
    throw new Error(`${file.name} is ${(file.size / 1e6).toFixed(1)} MB; the limit is ${limit.bytes / 1e6} MB.`);
  }
  return file;
}

// A drop zone plus a file input: calls `onFile(file)` with a checked file.
export function dropZone(kind, text, onFile, onError) {
  const input = el("input", {type: "file", accept: LIMITS[kind].types.join(",")});
  const zone = el("label", {class: "drop"}, el("span", {text}), input);
  const take = file => { try { onFile(checkUpload(file, kind)); } catch (e) { onError(e); } };
  input.addEventListener("change", () => input.files[0] && take(input.files[0]));
  zone.addEventListener("dragover", e => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", e => {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer.files[0]) take(e.dataTransfer.files[0]);
  });
  return zone;
}

export function report(node, text) {
  node.classList.remove("error");
  node.textContent = text;
}
