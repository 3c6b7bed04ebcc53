// The image with its cells' outlines, to look at closely: zoom with the wheel, a pinch or
// the buttons, pan by dragging; a click (a press without a drag) on the image is handed to
// `onClick(row, column)`. The view's transform is on the canvas for scripts and tests:
// a pixel (row, column) is at data-left + (column + 0.5) * data-zoom, data-top + (row +
// 0.5) * data-zoom CSS pixels from the canvas's top left corner.

const MOST_ZOOM = 32;
const DRAG = 4; // CSS pixels a press may move and still be a click

export class Viewer {
  constructor(canvas, { onClick = () => {} } = {}) {
    this.canvas = canvas;
    this.onClick = onClick;
    this.base = null; // the image, a canvas of its size
    this.overlay = null; // the outlines, a canvas of its size
    this.zoom = 1;
    this.left = 0;
    this.top = 0;
    this.pointers = new Map();
    this.gesture = null;
    canvas.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
    canvas.addEventListener("pointerdown", (event) => this.press(event));
    canvas.addEventListener("pointermove", (event) => this.move(event));
    canvas.addEventListener("pointerup", (event) => this.release(event));
    canvas.addEventListener("pointercancel", (event) => this.release(event, true));
    new ResizeObserver(() => this.resize()).observe(canvas);
  }

  /** Show an image (RGBA, rows x columns) with `overlay` (RGBA of the same size). */
  show(rgba, rows, columns, overlay) {
    const sameSize = this.base && this.base.width === columns && this.base.height === rows;
    this.base = canvasOf(rgba, rows, columns);
    this.overlay = overlay ? canvasOf(overlay, rows, columns) : null;
    if (!sameSize || !this.shown) this.fit();
    this.shown = true;
    this.draw();
  }

  /** Replace the outlines (after a correction, or a new colour). */
  setOverlay(overlay) {
    if (!this.base) return;
    this.overlay = canvasOf(overlay, this.base.height, this.base.width);
    this.draw();
  }

  clear() {
    this.base = null;
    this.overlay = null;
    this.shown = false;
    this.draw();
  }

  /** The whole image in view, centred. */
  fit() {
    const { width, height } = this.canvas.getBoundingClientRect();
    if (!this.base || !width || !height) return;
    this.zoom = Math.min(width / this.base.width, height / this.base.height);
    this.left = (width - this.base.width * this.zoom) / 2;
    this.top = (height - this.base.height * this.zoom) / 2;
    this.fitted = true;
    this.draw();
  }

  /** Zoom by `factor` about the point (x, y), CSS pixels in the canvas (its centre). */
  zoomBy(factor, x, y) {
    if (!this.base) return;
    const box = this.canvas.getBoundingClientRect();
    x = x ?? box.width / 2;
    y = y ?? box.height / 2;
    const least = Math.min(box.width / this.base.width, box.height / this.base.height, 1) / 2;
    const zoom = Math.min(Math.max(this.zoom * factor, least), MOST_ZOOM);
    this.left = x - ((x - this.left) * zoom) / this.zoom;
    this.top = y - ((y - this.top) * zoom) / this.zoom;
    this.zoom = zoom;
    this.fitted = false;
    this.draw();
  }

  /** The image pixel under a pointer event, or null off the image. */
  pixelAt(event) {
    const box = this.canvas.getBoundingClientRect();
    const column = Math.floor((event.clientX - box.left - this.left) / this.zoom);
    const row = Math.floor((event.clientY - box.top - this.top) / this.zoom);
    if (!this.base || row < 0 || column < 0 || row >= this.base.height || column >= this.base.width) return null;
    return { row, column };
  }

  wheel(event) {
    if (!this.base) return;
    event.preventDefault();
    const box = this.canvas.getBoundingClientRect();
    this.zoomBy(Math.exp(-event.deltaY * 0.002), event.clientX - box.left, event.clientY - box.top);
  }

  press(event) {
    this.canvas.setPointerCapture(event.pointerId);
    this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    const points = [...this.pointers.values()];
    this.gesture = { start: { x: event.clientX, y: event.clientY }, moved: points.length > 1, points };
  }

  move(event) {
    const last = this.pointers.get(event.pointerId);
    if (!last || !this.gesture) return;
    const box = this.canvas.getBoundingClientRect();
    if (this.pointers.size === 2) { // pinch: zoom by the change of the fingers' distance
      const [a, b] = [...this.pointers.values()];
      const before = Math.hypot(a.x - b.x, a.y - b.y);
      last.x = event.clientX;
      last.y = event.clientY;
      const [c, d] = [...this.pointers.values()];
      const after = Math.hypot(c.x - d.x, c.y - d.y);
      if (before > 0) this.zoomBy(after / before, (c.x + d.x) / 2 - box.left, (c.y + d.y) / 2 - box.top);
      return;
    }
    const dx = event.clientX - last.x;
    const dy = event.clientY - last.y;
    last.x = event.clientX;
    last.y = event.clientY;
    const { start } = this.gesture;
    if (Math.hypot(event.clientX - start.x, event.clientY - start.y) > DRAG) this.gesture.moved = true;
    if (this.gesture.moved) {
      this.left += dx;
      this.top += dy;
      this.fitted = false;
      this.draw();
    }
  }

  release(event, cancelled = false) {
    this.pointers.delete(event.pointerId);
    const gesture = this.gesture;
    if (this.pointers.size) return;
    this.gesture = null;
    if (cancelled || !gesture || gesture.moved || event.button > 0) return;
    const pixel = this.pixelAt(event);
    if (pixel) this.onClick(pixel.row, pixel.column);
  }

  resize() {
    const { width, height } = this.canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(width * ratio));
    this.canvas.height = Math.max(1, Math.round(height * ratio));
    if (this.base && this.fitted) this.fit();
    this.draw();
  }

  draw() {
    const { canvas } = this;
    const context = canvas.getContext("2d");
    const ratio = canvas.width / Math.max(canvas.getBoundingClientRect().width, 1);
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, canvas.width, canvas.height);
    canvas.dataset.zoom = String(this.zoom);
    canvas.dataset.left = String(this.left);
    canvas.dataset.top = String(this.top);
    if (!this.base) return;
    context.setTransform(ratio * this.zoom, 0, 0, ratio * this.zoom, ratio * this.left, ratio * this.top);
    context.imageSmoothingEnabled = this.zoom < 2; // pixels as squares when close
    context.drawImage(this.base, 0, 0);
    if (this.overlay) context.drawImage(this.overlay, 0, 0);
  }
}

/** A canvas holding RGBA pixels. */
function canvasOf(rgba, rows, columns) {
  const canvas = document.createElement("canvas");
  canvas.width = columns;
  canvas.height = rows;
  canvas.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(rgba), columns, rows), 0, 0);
  return canvas;
}
