// Drawing a QR code on a canvas (uqr encodes; no network, no inline image
// the policy would have to allow).
import { encode } from 'uqr';

// drawQR draws text as a QR code on canvas, scale pixels a module, with a
// four-module quiet zone, black on white.
export function drawQR(canvas, text, scale = 8) {
  const qr = encode(text, { ecc: 'M', border: 4 });
  canvas.width = canvas.height = qr.size * scale;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#000';
  qr.data.forEach((row, y) => row.forEach((dark, x) => dark && ctx.fillRect(x * scale, y * scale, scale, scale)));
  canvas.dataset.text = text;
}
