// Scanning QR codes with the camera: the browser's BarcodeDetector where it
// has one for QR codes, else jsQR on frames drawn to a canvas.
import jsQR from 'jsqr';

async function detector() {
  if (!('BarcodeDetector' in globalThis)) return null;
  try {
    const formats = await BarcodeDetector.getSupportedFormats();
    return formats.includes('qr_code') ? new BarcodeDetector({ formats: ['qr_code'] }) : null;
  } catch {
    return null;
  }
}

// startCamera shows the camera in video and calls onCode for each code
// read; a code still in view is not read again until it has been out of
// view for a moment. It returns a function that stops the camera.
export async function startCamera(video, onCode) {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: false,
    video: { facingMode: 'environment', width: { ideal: 1280 }, height: { ideal: 720 } },
  });
  video.srcObject = stream;
  await video.play();
  const bd = await detector();
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  let stopped = false;
  let last = '';
  let lastSeen = 0;
  const read = async () => {
    if (bd) {
      const found = await bd.detect(video);
      return found.length ? found[0].rawValue : null;
    }
    const scale = Math.min(1, 640 / (video.videoWidth || 640));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    if (!canvas.width || !canvas.height) return null;
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const r = jsQR(img.data, img.width, img.height, { inversionAttempts: 'attemptBoth' });
    return r ? r.data : null;
  };
  const tick = async () => {
    if (stopped) return;
    try {
      if (video.readyState >= 2) {
        const code = await read();
        const now = Date.now();
        if (code) {
          if (code !== last || now - lastSeen > 1500) onCode(code);
          last = code;
          lastSeen = now;
        }
      }
    } catch {
      // A frame that could not be read; the next one may.
    }
    setTimeout(tick, 120);
  };
  tick();
  return () => {
    stopped = true;
    for (const t of stream.getTracks()) t.stop();
    video.srcObject = null;
  };
}
