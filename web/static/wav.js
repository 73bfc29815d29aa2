// A greeting or name recorded in the browser becomes what the server accepts
// (docs/voicemail.md): a WAV file, linear PCM, 16-bit, mono. We send 16 kHz: 60 s then
// fit well inside the 2 MB upload limit (48 kHz would allow only ~21 s), and the server
// resamples to 8 kHz.

export const TARGET_RATE = 16000;

/** One channel from many: the plain average (what a mono telephone line hears). */
export function downmix(channels) {
  if (channels.length === 1) return channels[0];
  const length = Math.min(...channels.map((c) => c.length));
  const out = new Float32Array(length);
  for (const channel of channels) {
    for (let i = 0; i < length; i += 1) out[i] += channel[i] / channels.length;
  }
  return out;
}

/** Samples at `fromRate` to `toRate`, by the browser's own resampler (OfflineAudioContext,
 *  band-limited, so no aliasing from a 48 kHz microphone). */
export async function resample(samples, fromRate, toRate = TARGET_RATE) {
  if (fromRate === toRate) return samples;
  const length = Math.max(1, Math.round((samples.length * toRate) / fromRate));
  const offline = new OfflineAudioContext(1, length, toRate);
  const buffer = offline.createBuffer(1, samples.length, fromRate);
  buffer.copyToChannel(samples, 0);
  const source = offline.createBufferSource();
  source.buffer = buffer;
  source.connect(offline.destination);
  source.start();
  const rendered = await offline.startRendering();
  return rendered.getChannelData(0);
}

function writeText(view, offset, text) {
  for (let i = 0; i < text.length; i += 1) view.setUint8(offset + i, text.charCodeAt(i));
}

/** A RIFF/WAVE file with the plain 44-byte header: PCM (format 1), mono, 16-bit LE. */
export function encodeWav(samples, rate = TARGET_RATE) {
  const dataBytes = samples.length * 2;
  const view = new DataView(new ArrayBuffer(44 + dataBytes));
  writeText(view, 0, "RIFF");
  view.setUint32(4, 36 + dataBytes, true);
  writeText(view, 8, "WAVE");
  writeText(view, 12, "fmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  writeText(view, 36, "data");
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i += 1) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Blob([view.buffer], { type: "audio/wav" });
}

/** Chunks captured at `rate` (one Float32Array each) as a 16 kHz mono WAV Blob, at most
 *  `maxSeconds` long: the recorder's timer stops a little after the limit (it ticks every
 *  200 ms, the microphone delivers 4096 samples at a time), and the server refuses a
 *  greeting or a name even a moment over it. */
export async function recordingToWav(chunks, rate, maxSeconds = Infinity) {
  const total = Math.min(
    chunks.reduce((n, c) => n + c.length, 0),
    Math.floor(maxSeconds * rate),
  );
  const joined = new Float32Array(total);
  let at = 0;
  for (const chunk of chunks) {
    if (at >= total) break;
    const part = chunk.subarray(0, total - at);
    joined.set(part, at);
    at += part.length;
  }
  return encodeWav(await resample(joined, rate), TARGET_RATE);
}
