// Image recognition: draw on a canvas or drop a picture; the class scores of the int8 model.
import {loadModel} from "../runtime.js";
import {argmax, dropZone, el, fail, header, modelPicker, report, showBars} from "../ui.js";

export const TASKS = ["image_classification"];

// Grey pixels (0-255, light strokes on dark as in Fashion-MNIST) of a canvas, at the model's size.
export function canvasPixels(source, height, width) {
  const small = new OffscreenCanvas(width, height);
  const context = small.getContext("2d", {willReadFrequently: true});
  context.drawImage(source, 0, 0, width, height);
  const rgba = context.getImageData(0, 0, width, height).data;
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i++) {
    grey[i] = Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]);
  }
  return grey;
}

// A photo of an object on a light background becomes a light object on black.
function darkBackground(grey, width) {
  const border = [];
  for (let i = 0; i < grey.length; i++) {
    const x = i % width, y = Math.floor(i / width);
    if (x === 0 || y === 0 || x === width - 1 || y === grey.length / width - 1) border.push(grey[i]);
  }
  const mean = border.reduce((a, b) => a + b, 0) / border.length;
  return mean > 127 ? grey.map(v => 255 - v) : grey;
}

const FEATURE_MAPS = "feature_maps";

// `{scores, maps}` of raw uint8 pixels (height * width * channels) by one model: the class
// probabilities, and the first convolution's activations where the browser variant outputs them.
export async function classify(model, pixels) {
  const signature = model.defaultSignature;
  const spec = model.specs[signature];
  const outputs = await model.run(signature, {[spec.inputs[0].name]: pixels});
  const name = spec.outputs.find(o => o.name !== FEATURE_MAPS).name;
  const maps = spec.outputs.find(o => o.name === FEATURE_MAPS);
  return {scores: model.dequantize(signature, name, outputs[name]),
          maps: maps && {data: outputs[FEATURE_MAPS], shape: maps.shape}};
}

// The feature maps side by side, each scaled to its own range (bright: strong activation).
function drawMaps(canvas, maps) {
  const [, height, width, channels] = maps.shape;
  const columns = Math.min(channels, 8), rows = Math.ceil(channels / columns);
  canvas.width = columns * (width + 1);
  canvas.height = rows * (height + 1);
  const pixels = new ImageData(canvas.width, canvas.height);
  for (let c = 0; c < channels; c++) {
    let low = 255, high = 0;
    for (let i = c; i < maps.data.length; i += channels) { low = Math.min(low, maps.data[i]); high = Math.max(high, maps.data[i]); }
    const x0 = (c % columns) * (width + 1), y0 = Math.floor(c / columns) * (height + 1);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = Math.round(255 * (maps.data[(y * width + x) * channels + c] - low) / Math.max(1, high - low));
        pixels.data.set([v, v, v, 255], 4 * ((y0 + y) * canvas.width + x0 + x));
      }
    }
  }
  canvas.getContext("2d").putImageData(pixels, 0, 0);
}

export function create(section, entries) {
  header(section, "Image recognition", "Draw a piece of clothing (light on dark) or drop a photo: the int8 " +
         "ConvNet scores the ten Fashion-MNIST classes, in this page.");
  let entry = entries[0];
  const drawing = el("canvas", {width: 196, height: 196, "aria-label": "drawing canvas"});
  const context = drawing.getContext("2d");
  const bars = el("ul", {class: "bars"});
  const maps = el("canvas", {class: "maps", width: 1, height: 1, "aria-label": "first-layer feature maps"});
  const info = el("p", {class: "timing"});
  const clear = () => { context.fillStyle = "#000"; context.fillRect(0, 0, drawing.width, drawing.height); };
  clear();

  async function run() {
    try {
      const model = await loadModel(entry);
      const [height, width] = model.meta.input.shape;
      const pixels = canvasPixels(drawing, height, width);
      const started = performance.now();
      const {scores, maps: activations} = await classify(model, pixels);
      if (activations) drawMaps(maps, activations);
      maps.hidden = !activations;
      report(info, `${entry.name}: ${(performance.now() - started).toFixed(2)} ms in the browser ` +
        `(${entry.io} tensors at the boundary); Python runtime ${entry.latency_us} us.`);
      showBars(bars, model.meta.labels, scores);
    } catch (error) { fail(info, error); }
  }

  let drawingNow = false;
  const point = e => {
    const r = drawing.getBoundingClientRect();
    return [(e.clientX - r.left) * drawing.width / r.width, (e.clientY - r.top) * drawing.height / r.height];
  };
  drawing.addEventListener("pointerdown", e => { drawingNow = true; context.beginPath(); context.moveTo(...point(e)); });
  drawing.addEventListener("pointermove", e => {
    if (!drawingNow) return;
    context.lineTo(...point(e));
    context.strokeStyle = "#fff"; context.lineWidth = 18; context.lineCap = "round"; context.lineJoin = "round";
    context.stroke();
  });
  drawing.addEventListener("pointerup", () => { drawingNow = false; run(); });

  const drop = dropZone("image", "Drop a photo, or choose one ", async file => {
    const bitmap = await createImageBitmap(file);
    const grey = darkBackground(canvasPixels(bitmap, drawing.height, drawing.width), drawing.width);
    const rgba = new ImageData(drawing.width, drawing.height);
    grey.forEach((v, i) => rgba.data.set([v, v, v, 255], 4 * i));
    context.putImageData(rgba, 0, 0);
    run();
  }, error => fail(info, error));

  section.append(el("div", {class: "row"}, modelPicker(entries, e => { entry = e; run(); }),
                    el("button", {class: "secondary", text: "Clear", onclick: () => { clear(); bars.replaceChildren(); }})),
                 el("div", {class: "row"}, drawing, bars), maps, drop, info);
  return {
    image: {
      // For scripts: scores of `pixels` (raw uint8, the model's input size) by the model `name`.
      async classify(name, pixels) {
        const model = await loadModel(entries.find(e => e.name === name));
        const {scores, maps} = await classify(model, Uint8Array.from(pixels));
        return {scores: Array.from(scores), label: argmax(scores), maps: maps && Array.from(maps.data)};
      },
    },
  };
}
