// A drawing canvas for digit models: pointer events (mouse, pen, touch), white strokes on a
// transparent canvas (the server composites and normalises it like MNIST), and a debounced
// callback onDrawing(file, final) with the drawing as a PNG while the person draws; `final` is
// true once the pen is lifted.
export class DrawingCanvas {
  constructor(canvas, onDrawing, { delay = 150, lineWidth = 22 } = {}) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.onDrawing = onDrawing;
    this.delay = delay;
    this.lineWidth = lineWidth;
    this.drawing = false;
    this.empty = true;
    this.timer = null;
    this.last = null;
    canvas.addEventListener("pointerdown", (event) => this.start(event));
    canvas.addEventListener("pointermove", (event) => this.move(event));
    for (const name of ["pointerup", "pointercancel"]) {
      canvas.addEventListener(name, (event) => this.end(event));
    }
  }

  point(event) {
    const box = this.canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * this.canvas.width) / box.width,
      y: ((event.clientY - box.top) * this.canvas.height) / box.height,
    };
  }

  start(event) {
    event.preventDefault();
    this.canvas.setPointerCapture?.(event.pointerId);
    this.drawing = true;
    this.last = this.point(event);
    this.stroke(this.last, this.last);
  }

  move(event) {
    if (!this.drawing) return;
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const each of events.length ? events : [event]) {
      const next = this.point(each);
      this.stroke(this.last, next);
      this.last = next;
    }
    this.schedule(this.delay);
  }

  end(event) {
    if (!this.drawing) return;
    this.drawing = false;
    this.canvas.releasePointerCapture?.(event.pointerId);
    this.schedule(0, true);
  }

  stroke(from, to) {
    const context = this.context;
    context.strokeStyle = "#fff";
    context.lineWidth = this.lineWidth;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
    this.empty = false;
  }

  schedule(delay, final = false) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.emit(final), delay);
  }

  emit(final) {
    if (this.empty) return;
    this.canvas.toBlob((blob) => {
      if (blob) this.onDrawing(new File([blob], "drawing.png", { type: "image/png" }), final);
    }, "image/png");
  }

  clear() {
    clearTimeout(this.timer);
    this.context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.empty = true;
  }
}
