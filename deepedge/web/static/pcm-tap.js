// An AudioWorklet that hands every block of microphone samples to the page (`live.js`).
class PcmTap extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) this.port.postMessage(channel.slice());
    return true;
  }
}
registerProcessor("pcm-tap", PcmTap);
