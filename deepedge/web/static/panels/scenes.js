// Scene labelling: drop a photo; the fully convolutional labeller gives every pixel a class,
// tile by tile as deepedge.ops.dense.tiled_predict does, painted over the photo.
import {canvasPixels} from "./image.js";
import {loadModel} from "../runtime.js";
import {dropZone, el, fail, header, modelPicker, report} from "../ui.js";

export const TASKS = ["scene_labelling"];
const MAX_SIDE = 384;

// `[padBefore, padAfter, [[start, keepFrom, keepTo]]]` along one axis (ops.dense._axis_tiles).
function axisTiles(size, tile, margin) {
  if (size <= tile) return [0, tile - size, [[0, 0, size]]];
  const step = tile - 2 * margin;
  const count = Math.ceil(size / step);
  return [margin, count * step - size + margin, [...Array(count).keys()].map(i => [i * step, margin, margin + step])];
}

// numpy's "symmetric" padding: the edge pixel repeated, then mirrored.
function mirror(i, size) {
  const period = 2 * size;
  i = ((i % period) + period) % period;
  return i < size ? i : period - 1 - i;
}

// The label map (uint8, height * width) of grey pixels by one model.
export async function label(model, grey, height, width) {
  const [, tile, , channels] = model.specs[model.defaultSignature].inputs[0].shape;
  if (channels !== 1) throw new Error(`The page feeds grey images; ${model.entry.name} takes ${channels} channels.`);
  const margin = model.meta.input.tile_margin ?? Math.floor(tile / 8);
  const [top, , rows] = axisTiles(height, tile, margin);
  const [left, , cols] = axisTiles(width, tile, margin);
  const spec = model.specs[model.defaultSignature];
  const classes = spec.outputs[0].shape.at(-1);
  const labels = new Uint8Array(height * width);
  const patch = new Uint8Array(tile * tile);
  for (const [y, yFrom, yTo] of rows) {
    for (const [x, xFrom, xTo] of cols) {
      for (let r = 0; r < tile; r++) {
        for (let c = 0; c < tile; c++) {
          patch[r * tile + c] = grey[mirror(y + r - top, height) * width + mirror(x + c - left, width)];
        }
      }
      const outputs = await model.run(null, {[spec.inputs[0].name]: patch});
      const scores = outputs[spec.outputs[0].name];
      for (let r = yFrom; r < yTo; r++) {
        for (let c = xFrom; c < xTo; c++) {
          const py = y + r - top, px = x + c - left;
          if (py < 0 || py >= height || px < 0 || px >= width) continue;
          let best = 0;
          const base = (r * tile + c) * classes;
          for (let k = 1; k < classes; k++) if (scores[base + k] > scores[base + best]) best = k;
          labels[py * width + px] = best;
        }
      }
    }
  }
  return labels;
}

function paint(canvas, grey, labels, palette, width, height, alpha = 0.5) {
  canvas.width = width;
  canvas.height = height;
  const pixels = new ImageData(width, height);
  for (let i = 0; i < labels.length; i++) {
    const colour = palette[labels[i]];
    for (let k = 0; k < 3; k++) pixels.data[4 * i + k] = Math.round((1 - alpha) * grey[i] + alpha * colour[k]);
    pixels.data[4 * i + 3] = 255;
  }
  canvas.getContext("2d").putImageData(pixels, 0, 0);
}

export function create(section, entries) {
  header(section, "Scene labelling", "Drop a photo: the multiscale ConvNet labels every pixel (textures, clothing, " +
         "digits; or cell nuclei), 128 x 128 tiles at a time, and paints the labels over it.");
  let entry = entries[0];
  const canvas = el("canvas", {width: 128, height: 128, "aria-label": "labelled image"});
  const legend = el("div", {class: "legend"});
  const info = el("p", {class: "timing"});
  let last = null;

  async function run() {
    if (!last) return;
    try {
      const model = await loadModel(entry);
      const scale = Math.min(1, MAX_SIDE / Math.max(last.width, last.height));
      const width = Math.max(1, Math.round(last.width * scale)), height = Math.max(1, Math.round(last.height * scale));
      const grey = canvasPixels(last, height, width);
      const started = performance.now();
      const labels = await label(model, grey, height, width);
      report(info, `${entry.name}: ${width} x ${height} pixels labelled in ` +
        `${(performance.now() - started).toFixed(1)} ms in the browser.`);
      paint(canvas, grey, labels, model.meta.palette, width, height);
      legend.replaceChildren(...model.meta.labels.map((name, i) => {
        const span = el("span", {text: name});
        span.style.setProperty("--swatch", `rgb(${model.meta.palette[i].join(",")})`);
        return span;
      }));
    } catch (error) { fail(info, error); }
  }

  const drop = dropZone("image", "Drop a photo, or choose one ", async file => {
    last = await createImageBitmap(file);
    run();
  }, error => fail(info, error));
  section.append(el("div", {class: "row"}, modelPicker(entries, e => { entry = e; run(); })), drop, canvas, legend,
                 info);
  return {
    scenes: {
      async label(name, grey, height, width) {
        const model = await loadModel(entries.find(e => e.name === name));
        return Array.from(await label(model, Uint8Array.from(grey), height, width));
      },
    },
  };
}
