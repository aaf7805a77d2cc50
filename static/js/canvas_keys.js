// Drawing on a DrawingCanvas from the keyboard: the arrows move a pen cursor (with Shift, in
// bigger steps), Space or Enter puts the pen down or lifts it, Escape lifts it, Delete or
// Backspace clears. Strokes go through the canvas's own stroke() and debounced prediction;
// the cursor is an element over the canvas, so it never reaches the image that is classified.
import { announce } from "./messages.js";

const STEP = 7; // canvas pixels (the canvas is 280 wide)
const BIG_STEP = 28;
const MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

export function installCanvasKeys(drawing, cursor, onClear) {
  const canvas = drawing.canvas;
  const pen = { x: canvas.width / 2, y: canvas.height / 2, down: false };
  cursor.style.width = `${(100 * drawing.lineWidth) / canvas.width}%`;

  const show = () => {
    cursor.hidden = false;
    cursor.classList.toggle("down", pen.down);
    cursor.style.left = `${(100 * pen.x) / canvas.width}%`;
    cursor.style.top = `${(100 * pen.y) / canvas.height}%`;
  };

  const setPen = (down) => {
    if (pen.down === down) return;
    pen.down = down;
    if (down) drawLine(pen);
    else drawing.schedule(0, true);
    announce(down ? "Pen down: the arrow keys draw." : "Pen up: the arrow keys move the pen.");
  };

  const drawLine = (from) => {
    drawing.stroke(from, pen);
    drawing.schedule(drawing.delay);
  };

  const move = ([dx, dy], step) => {
    const from = { x: pen.x, y: pen.y };
    pen.x = Math.min(canvas.width, Math.max(0, pen.x + dx * step));
    pen.y = Math.min(canvas.height, Math.max(0, pen.y + dy * step));
    if (pen.down) drawLine(from);
  };

  // True when the key was ours.
  const handle = (event) => {
    if (MOVES[event.key]) move(MOVES[event.key], event.shiftKey ? BIG_STEP : STEP);
    else if (event.key === " " || event.key === "Enter") setPen(!pen.down);
    else if (event.key === "Escape" && pen.down) setPen(false);
    else if (event.key === "Delete" || event.key === "Backspace") onClear();
    else return false;
    return true;
  };

  canvas.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || !handle(event)) return;
    event.preventDefault();
    show();
  });
  canvas.addEventListener("focus", () => {
    if (canvas.matches(":focus-visible")) show();
  });
  canvas.addEventListener("blur", () => {
    if (pen.down) {
      pen.down = false;
      drawing.schedule(0, true);
    }
    cursor.hidden = true;
  });
}
