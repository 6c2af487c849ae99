// Visual-attention agents: the glimpse agent reads a drawn digit through its retina (where it
// looked is drawn), and the DQN balances CartPole (the physics of gymnasium's CartPole-v1).
import {canvasPixels} from "./image.js";
import {loadModel} from "../runtime.js";
import {argmax, el, fail, header, modelPicker, report, showBars} from "../ui.js";

export const TASKS = ["glimpse_classification", "q_learning"];

// deepedge.ops.glimpse.retina for one image (height * width floats): scales x size x size.
export function retina(image, height, width, location, size, scales) {
  const centre = [height, width].map((n, k) => Math.min(n - 1, Math.floor((Math.max(-1, Math.min(1, location[k])) + 1) * 0.5 * n)));
  const out = new Float32Array(scales * size * size);
  for (let s = 0; s < scales; s++) {
    const factor = 2 ** s, side = size * factor;
    const top = centre[0] - Math.floor(side / 2), left = centre[1] - Math.floor(side / 2);
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        let sum = 0;
        for (let dy = 0; dy < factor; dy++) {
          for (let dx = 0; dx < factor; dx++) {
            const y = top + r * factor + dy, x = left + c * factor + dx;
            if (y >= 0 && y < height && x >= 0 && x < width) sum += image[y * width + x];
          }
        }
        out[(s * size + r) * size + c] = sum / (factor * factor);
      }
    }
  }
  return out;
}

// `{probabilities, locations}` of a grey image (0-255) as EdgeGlimpseAgent.look computes them.
// A saliency locator's moves are in pixels of the canvas it was trained on (`meta.canvas`):
// rescaled on an image of another size.
export async function look(model, grey, height, width) {
  const meta = model.meta;
  const image = Float32Array.from(grey, v => v * meta.input.scale);
  let state = model.initialState("step");
  let location = new Float32Array(2);
  const locations = [];
  const rescale = meta.canvas && (meta.canvas[0] !== height || meta.canvas[1] !== width)
    ? [meta.canvas[0] / height, meta.canvas[1] / width] : null;
  let outputs;
  for (let i = 0; i < meta.glimpses; i++) {
    locations.push(Array.from(location));
    const glimpse = retina(image, height, width, location, meta.glimpse_size, meta.scales);
    [outputs, state] = await model.step("step", {glimpse, location}, state);
    const moved = rescale ? Array.from(outputs.next_location, (v, k) => location[k] + (v - location[k]) * rescale[k])
      : outputs.next_location;
    location = moved.map(v => Math.max(-1, Math.min(1, v)));
  }
  return {probabilities: Array.from(outputs.probabilities), locations};
}

// gymnasium's CartPole-v1: Euler steps of 20 ms; over when the pole leans past 12 degrees, the
// cart leaves the track, or after 500 steps.
export class CartPole {
  constructor(random = Math.random) { this.state = Array.from({length: 4}, () => 0.1 * random() - 0.05); this.steps = 0; }
  step(action) {
    const [gravity, cart, pole, length, force, tau] = [9.8, 1.0, 0.1, 0.5, 10.0, 0.02];
    let [x, xDot, theta, thetaDot] = this.state;
    const total = cart + pole, f = action === 1 ? force : -force;
    const cos = Math.cos(theta), sin = Math.sin(theta);
    const temp = (f + pole * length * thetaDot ** 2 * sin) / total;
    const thetaAcc = (gravity * sin - cos * temp) / (length * (4 / 3 - pole * cos ** 2 / total));
    const xAcc = temp - pole * length * thetaAcc * cos / total;
    x += tau * xDot; xDot += tau * xAcc; theta += tau * thetaDot; thetaDot += tau * thetaAcc;
    this.state = [x, xDot, theta, thetaDot];
    this.steps++;
    return Math.abs(x) > 2.4 || Math.abs(theta) > 12 * 2 * Math.PI / 360 || this.steps >= 500;
  }
}

// MinAtar's Breakout (minatar/environments/breakout.py): a 10 x 10 grid, the paddle on the
// bottom row, three rows of bricks; the state is 10 x 10 x 4 (paddle, ball, trail, brick).
// `step` takes a move: 0 stays, 1 left, 2 right (the minimal action set of Breakout-v1;
// `playBreakout` maps a model's own actions, e.g. the six of Breakout-v0, by their names).
// With probability `sticky` the last move repeats.
export class Breakout {
  constructor(ballStart = 0, sticky = 0.1, random = Math.random) {
    [this.ballX, this.ballDir] = [[0, 2], [9, 3]][ballStart];
    this.ballY = 3; this.pos = 4; this.lastX = this.ballX; this.lastY = this.ballY;
    this.bricks = Array.from({length: 100}, (_, i) => (i >= 10 && i < 40 ? 1 : 0));
    this.strike = false; this.terminal = false; this.sticky = sticky; this.random = random; this.last = 0;
  }
  get state() {
    const state = new Float32Array(400);
    state[(9 * 10 + this.pos) * 4] = 1;
    state[(this.ballY * 10 + this.ballX) * 4 + 1] = 1;
    state[(this.lastY * 10 + this.lastX) * 4 + 2] = 1;
    this.bricks.forEach((b, i) => { state[i * 4 + 3] = b; });
    return state;
  }
  step(action) {
    if (this.terminal) return [0, true];
    if (this.random() < this.sticky) action = this.last;
    this.last = action;
    let reward = 0;
    if (action === 1) this.pos = Math.max(0, this.pos - 1);
    else if (action === 2) this.pos = Math.min(9, this.pos + 1);
    this.lastX = this.ballX; this.lastY = this.ballY;
    let x = this.ballX + [-1, 1, 1, -1][this.ballDir], y = this.ballY + [-1, -1, 1, 1][this.ballDir];
    let struck = false;
    if (x < 0 || x > 9) { x = Math.min(9, Math.max(0, x)); this.ballDir = [1, 0, 3, 2][this.ballDir]; }
    if (y < 0) { y = 0; this.ballDir = [3, 2, 1, 0][this.ballDir]; }
    else if (this.bricks[y * 10 + x] === 1) {
      struck = true;
      if (!this.strike) {
        reward = 1; this.strike = true; this.bricks[y * 10 + x] = 0; y = this.lastY;
        this.ballDir = [3, 2, 1, 0][this.ballDir];
      }
    } else if (y === 9) {
      if (!this.bricks.some(Boolean)) this.bricks.fill(1, 10, 40);
      if (this.ballX === this.pos) { this.ballDir = [3, 2, 1, 0][this.ballDir]; y = this.lastY; }
      else if (x === this.pos) { this.ballDir = [2, 3, 0, 1][this.ballDir]; y = this.lastY; }
      else this.terminal = true;
    }
    if (!struck) this.strike = false;
    this.ballX = x; this.ballY = y;
    return [reward, this.terminal];
  }
}

// A greedy episode of Breakout (at most `maxSteps`): `{actions, return}`, the model's own
// action indices (MinAtar's game moves the paddle on "left" and "right" and ignores the rest).
export async function playBreakout(model, ballStart, sticky, maxSteps, onStep = async () => {}) {
  const env = new Breakout(ballStart, sticky);
  const names = model.meta.action_names || ["no-op", "left", "right"];
  const moves = names.map(name => (name === "left" ? 1 : name === "right" ? 2 : 0));
  const actions = [];
  let total = 0;
  while (!env.terminal && actions.length < maxSteps) {
    const action = argmax(await qValues(model, env.state));
    actions.push(action);
    total += env.step(moves[action])[0];
    await onStep(env);
  }
  return {actions, return: total};
}

function drawBreakout(canvas, env) {
  const g = canvas.getContext("2d"), cell = canvas.width / 10;
  g.fillStyle = "#111"; g.fillRect(0, 0, canvas.width, canvas.height);
  env.bricks.forEach((b, i) => {
    if (b) { g.fillStyle = "#c8643c"; g.fillRect((i % 10) * cell + 1, Math.floor(i / 10) * cell + 1, cell - 2, cell - 2); }
  });
  g.fillStyle = "#555"; g.fillRect(env.lastX * cell + 4, env.lastY * cell + 4, cell - 8, cell - 8);
  g.fillStyle = "#fff"; g.fillRect(env.ballX * cell + 3, env.ballY * cell + 3, cell - 6, cell - 6);
  g.fillStyle = "#2458d6"; g.fillRect(env.pos * cell, 9 * cell + cell / 2, cell, cell / 2);
}

export async function qValues(model, observation) {
  const spec = model.specs[model.defaultSignature];
  const outputs = await model.run(null, {[spec.inputs[0].name]: Float32Array.from(observation)});
  return Array.from(outputs[spec.outputs[0].name]);
}

function drawCart(canvas, [x, , theta]) {
  const g = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  g.fillStyle = "#fff"; g.fillRect(0, 0, w, h);
  const cx = w / 2 + x * w / 4.8, cy = h * 0.7;
  g.fillStyle = "#333"; g.fillRect(0, cy + 10, w, 2); g.fillRect(cx - 20, cy - 8, 40, 18);
  g.strokeStyle = "#c8643c"; g.lineWidth = 6;
  g.beginPath(); g.moveTo(cx, cy); g.lineTo(cx + Math.sin(theta) * h * 0.55, cy - Math.cos(theta) * h * 0.55); g.stroke();
}

export function create(section, entries) {
  header(section, "Visual-attention agents", "Draw a digit for the glimpse agent (its glimpses are marked), or " +
         "let the int8 DQN balance CartPole or play MinAtar Breakout, every decision made in this page.");
  let entry = entries[0];
  const canvas = el("canvas", {width: 180, height: 180, "aria-label": "agent canvas"});
  const g = canvas.getContext("2d");
  const bars = el("ul", {class: "bars"});
  const info = el("p", {class: "timing"});
  const clear = () => { g.fillStyle = "#000"; g.fillRect(0, 0, canvas.width, canvas.height); };
  clear();
  let drawing = false;
  const point = e => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  };
  canvas.addEventListener("pointerdown", e => {
    drawing = entry.task === "glimpse_classification";
    g.beginPath();
    g.moveTo(...point(e));
  });
  canvas.addEventListener("pointermove", e => {
    if (!drawing) return;
    g.lineTo(...point(e)); g.strokeStyle = "#fff"; g.lineWidth = 12; g.lineCap = "round"; g.stroke();
  });
  canvas.addEventListener("pointerup", () => { if (drawing) { drawing = false; classify(); } });

  async function classify() {
    try {
      const model = await loadModel(entry);
      const side = 60;
      const grey = canvasPixels(canvas, side, side);
      const started = performance.now();
      const result = await look(model, grey, side, side);
      report(info, `${entry.name}: ${model.meta.glimpses} glimpses in ${(performance.now() - started).toFixed(1)} ms.`);
      showBars(bars, model.meta.labels, result.probabilities);
      g.strokeStyle = "#2458d6"; g.lineWidth = 2;
      for (const [y, x] of result.locations) {
        const size = model.meta.glimpse_size * canvas.width / side;
        g.strokeRect((x + 1) / 2 * canvas.width - size / 2, (y + 1) / 2 * canvas.height - size / 2, size, size);
      }
    } catch (error) { fail(info, error); }
  }

  async function play() {
    try {
      const model = await loadModel(entry);
      if (/^MinAtar\/Breakout-v[01]$/.test(model.meta.environment)) {
        let frames = 0;
        const result = await playBreakout(model, Math.round(Math.random()), 0.1, 2000, async env => {
          drawBreakout(canvas, env);
          if (++frames % 2 === 0) await new Promise(resolve => setTimeout(resolve, 30));
        });
        info.textContent = `${entry.name}: ${result.return} bricks in ${result.actions.length} steps.`;
        return;
      }
      if (model.meta.environment !== "CartPole-v1") {
        throw new Error(`The page simulates CartPole-v1 and MinAtar Breakout; ${entry.name} plays ` +
                        `${model.meta.environment}, which needs the Arcade Learning Environment: ` +
                        `\`deepedge play ${entry.name}\` plays it in Python and writes a GIF.`);
      }
      const env = new CartPole();
      let done = false, total = 0, time = 0;
      while (!done) {
        const started = performance.now();
        const q = await qValues(model, env.state);
        time += performance.now() - started;
        done = env.step(argmax(q));
        total += 1;
        drawCart(canvas, env.state);
        if (total % 5 === 0) await new Promise(resolve => requestAnimationFrame(resolve));
      }
      report(info, `${entry.name}: return ${total} (500 is the most); ${(time / total).toFixed(3)} ms a decision.`);
    } catch (error) { fail(info, error); }
  }

  section.append(el("div", {class: "row"}, modelPicker(entries, e => { entry = e; clear(); bars.replaceChildren(); }),
                    el("button", {text: "Play", onclick: play}),
                    el("button", {class: "secondary", text: "Clear", onclick: () => { clear(); bars.replaceChildren(); }})),
                 el("div", {class: "row"}, canvas, bars), info);
  return {
    agents: {
      async look(name, grey, height, width) {
        return look(await loadModel(entries.find(e => e.name === name)), Float32Array.from(grey), height, width);
      },
      async qValues(name, observation) { return qValues(await loadModel(entries.find(e => e.name === name)), observation); },
      async playBreakout(name, ballStart, maxSteps) {
        return playBreakout(await loadModel(entries.find(e => e.name === name)), ballStart, 0, maxSteps);
      },
    },
  };
}
