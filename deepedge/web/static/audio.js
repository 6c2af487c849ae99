// Audio for the speech panels: a file or a recording as float32 mono PCM at the model's rate.
export async function decodeAudio(file, sampleRate) {
  const bytes = await file.arrayBuffer();
  const probe = new OfflineAudioContext(1, 1, sampleRate);
  const decoded = await probe.decodeAudioData(bytes);
  const length = Math.max(1, Math.ceil(decoded.duration * sampleRate));
  const offline = new OfflineAudioContext(1, length, sampleRate);
  const source = offline.createBufferSource();
  source.buffer = decoded;
  source.connect(offline.destination);
  source.start();
  const rendered = await offline.startRendering();
  return rendered.getChannelData(0).map(v => Math.max(-1, Math.min(1, v)));
}

// Records `seconds` of microphone audio; resolves with float32 mono PCM at `sampleRate`.
export async function record(seconds, sampleRate) {
  const stream = await navigator.mediaDevices.getUserMedia({audio: {channelCount: 1}});
  try {
    const recorder = new MediaRecorder(stream);
    const chunks = [];
    recorder.addEventListener("dataavailable", e => chunks.push(e.data));
    const stopped = new Promise(resolve => recorder.addEventListener("stop", resolve));
    recorder.start();
    await new Promise(resolve => setTimeout(resolve, seconds * 1000));
    recorder.stop();
    await stopped;
    return decodeAudio(new Blob(chunks, {type: recorder.mimeType}), sampleRate);
  } finally {
    for (const track of stream.getTracks()) track.stop();
  }
}

// The loudest `samples`-long window of `audio` (zero-padded when shorter): where a keyword is.
export function loudestWindow(audio, samples) {
  if (audio.length <= samples) {
    const out = new Float32Array(samples);
    out.set(audio);
    return out;
  }
  const hop = 160;
  let best = 0, bestEnergy = -1;
  for (let start = 0; start + samples <= audio.length; start += hop) {
    let energy = 0;
    for (let i = start; i < start + samples; i += 4) energy += audio[i] * audio[i];
    if (energy > bestEnergy) { bestEnergy = energy; best = start; }
  }
  return audio.slice(best, best + samples);
}

// Linear resampling of a stream of blocks from `from` Hz to `to` Hz. Position 0 is the last
// sample of the previous block, so consecutive blocks join without a seam.
class Resampler {
  constructor(from, to) { this.step = from / to; this.position = 1; this.last = 0; }
  push(block) {
    const x = i => i === 0 ? this.last : block[i - 1];
    const out = [];
    while (this.position < block.length) {
      const i = Math.floor(this.position), frac = this.position - i;
      out.push(x(i) + (x(i + 1) - x(i)) * frac);
      this.position += this.step;
    }
    this.position -= block.length;
    this.last = block[block.length - 1];
    return Float32Array.from(out);
  }
}

// Streams the microphone as float32 mono at `sampleRate` to `onSamples(block)`; resolves with
// a function that stops it.
export async function listen(sampleRate, onSamples) {
  const stream = await navigator.mediaDevices.getUserMedia({audio: {channelCount: 1, echoCancellation: false}});
  const context = new AudioContext();
  await context.audioWorklet.addModule("/static/pcm-tap.js");
  const source = context.createMediaStreamSource(stream);
  const tap = new AudioWorkletNode(context, "pcm-tap");
  const resampler = new Resampler(context.sampleRate, sampleRate);
  tap.port.onmessage = event => onSamples(resampler.push(event.data));
  source.connect(tap);
  return async () => {
    source.disconnect();
    tap.port.onmessage = null;
    for (const track of stream.getTracks()) track.stop();
    await context.close();
  };
}
