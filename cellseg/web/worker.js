// The page's Web Worker: decode an image, choose its scale, run the network with ONNX
// Runtime Web (WebAssembly), find, rate and measure the cells. The page never freezes:
// everything heavy is here, one image at a time; the page may start several workers.
//
// It follows TrainedModel.segment: a pale counterstain strengthened first (as the model's
// training images' haematoxylin says); with scale "auto", the scale the image's pixel size
// implies when its file records one (or the page is told it), else the one the network
// is surest of on the image's central crop (trials at 1, 2 and 4, as choose_scale); the
// image enlarged by that scale first, its cells found, rated and brought back to the
// image's size (rescaled).

import * as ort from "./vendor/onnxruntime-web/ort.wasm.min.mjs";
import { measureCells } from "./cells.js";
import { counterstainFactor, withCounterstain } from "./counterstain.js";
import { imageHead, tiffRefusal } from "./formats.js";
import { networkOutput } from "./network.js";
import { pngPixelSize } from "./png.js";
import { AUTO_SCALES, AUTO_SCALE_CROP } from "./constants.js";
import { centralCrop, chooseScale, enlarged, rescaledCells, resizeNearest,
  scaleForPixelSize, scaledSize, trialsDecide } from "./scale.js";
import { findCells, trialOfOutput } from "./segment.js";

// Scales the page takes (as predict's --scale), and the most pixels it finds cells in at
// once (larger images: cellseg predict, which goes region by region).
const SCALE_RANGE = [0.1, 10];
const MOST_PIXELS = 25000000;

ort.env.wasm.wasmPaths = {
  mjs: new URL("./vendor/onnxruntime-web/ort-wasm-simd-threaded.mjs", import.meta.url).href,
  wasm: new URL("./vendor/onnxruntime-web/ort-wasm-simd-threaded.wasm", import.meta.url).href,
};

let ready = null;

/** Load the settings and the model, with `threads` threads (more need cross-origin
 *  isolation, which `cellseg serve` gives). */
function load(threads) {
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.max(1, threads) : 1;
  return (async () => {
    const response = await fetch(new URL("./model.json", import.meta.url));
    if (!response.ok) throw new Error("model.json is missing from the site");
    const settings = await response.json();
    const session = await ort.InferenceSession.create(new URL("./model.onnx", import.meta.url).href, {
      executionProviders: ["wasm"],
      graphOptimizationLevel: "all",
    });
    postMessage({ type: "ready" });
    return { settings, session };
  })();
}

onmessage = async ({ data }) => {
  if (data.type === "start") {
    ready = load(data.threads || 1);
    ready.catch((error) => postMessage({ type: "failed", message: `cannot load the model: ${error.message || error}` }));
    return;
  }
  const { id } = data;
  const progress = (stage, fraction) => postMessage({ type: "progress", id, stage, fraction });
  try {
    progress("loading the model", 0.01);
    const { settings, session } = await ready;
    const result = await segmentFile(session, settings, data, progress);
    postMessage({ type: "done", id, ...result },
      [result.labels.buffer, result.rgba.buffer, result.probability.buffer, result.confidence.buffer]);
  } catch (error) {
    postMessage({ type: "error", id, message: String(error && error.message ? error.message : error) });
  }
};

/** The cells of one image file, as TrainedModel.segment_file with `data.scale`. */
async function segmentFile(session, settings, data, progress) {
  const { file } = data;
  const seconds = {}; // where the time went, for benchmarks
  let clock = performance.now();
  const lap = (stage) => {
    const now = performance.now();
    seconds[stage] = (seconds[stage] || 0) + (now - clock) / 1000;
    clock = now;
  };
  progress("reading the image", 0.02);
  const head = new Uint8Array(await file.slice(0, 1 << 16).arrayBuffer());
  const pixelSize = data.pixelSize || pngPixelSize(head);
  const written = imageHead(head);
  if (written.format === "tiff") throw new Error(tiffRefusal(file.name));
  if (written.rows && written.columns) {
    // Too large at the least scale it may be counted at: refused before it is decoded.
    const least = data.scale !== "auto" ? Number(data.scale) :
      scaleForPixelSize(pixelSize, settings.pixel_size) || Math.min(...AUTO_SCALES);
    refuseTooLarge(file.name, written.rows, written.columns, least);
  }
  const { rgba, rows, columns } = await decode(file);
  const counterstain = counterstainFactor(rgba, rows, columns, settings.haematoxylin);
  const shown = withCounterstain(rgba, rows, columns, counterstain); // what the network sees
  lap("decode");
  let scale = data.scale;
  let reason = "chosen";
  let trials = [];
  const cache = new Map(); // the output of a trial at 1x that covered the whole image
  if (scale === "auto") {
    scale = scaleForPixelSize(pixelSize, settings.pixel_size);
    reason = `${pixelSize} µm pixels`;
    if (!scale) {
      ({ scale, trials } = await chooseScaleOf(session, settings, shown, rows, columns, cache, progress));
      reason = "the cells the network is surest of";
      lap("scale");
    }
  }
  scale = Number(scale);
  if (!(scale >= SCALE_RANGE[0] && scale <= SCALE_RANGE[1])) {
    throw new Error(`scale must be between ${SCALE_RANGE[0]} and ${SCALE_RANGE[1]}, got ${data.scale}`);
  }
  refuseTooLarge(file.name, rows, columns, scale);
  const big = scale === 1 ? { rgba: shown, rows, columns } : enlarged(shown, rows, columns, scale);
  lap("enlarge");
  let output = cache.get(scale);
  if (!output) {
    progress(scale === 1 ? "running the network" : `running the network, enlarged ${scale}x`, 0.3);
    output = await networkOutput(session, settings, big.rgba, big.rows, big.columns,
      (fraction) => progress("running the network", 0.3 + 0.55 * fraction));
  }
  lap("network");
  progress("separating the cells", 0.88);
  const found = findCells(output.data, big.rows, big.columns, output.channels, settings);
  output = null;
  let { labels, confidence, probability } = found;
  if (scale !== 1) {
    ({ labels, confidence } = rescaledCells(found, big.rows, big.columns, rows, columns));
    probability = resizeNearest(found.probability, big.rows, big.columns, rows, columns);
  }
  lap("cells");
  progress("measuring the cells", 0.95);
  const cells = measureCells(labels, rgba, rows, columns, confidence);
  lap("measure");
  const countSpread = settings.count_spread || 0; // widens the count's interval
  return { labels, confidence, probability, rgba, rows, columns, cells, scale, reason, trials, pixelSize, counterstain,
    countSpread, seconds };
}

/** Refuse an image of `rows` x `columns` pixels that, enlarged by `scale`, is more than
 *  the page finds cells in at once. */
function refuseTooLarge(name, rows, columns, scale) {
  const [bigRows, bigColumns] = scaledSize(rows, columns, scale);
  if (bigRows * bigColumns > MOST_PIXELS) {
    throw new Error(`${name}: ${columns} x ${rows} pixels at scale ${scale} is too large for the page; count it with cellseg predict`);
  }
}

/** The scale "auto" chooses for an image (TrainedModel.choose_scale): trials on its central
 *  crop enlarged by each of AUTO_SCALES in turn, until one decides. */
async function chooseScaleOf(session, settings, rgba, rows, columns, cache, progress) {
  const crop = centralCrop(rgba, rows, columns, AUTO_SCALE_CROP);
  const whole = crop.rows === rows && crop.columns === columns;
  const trials = [];
  for (const scale of AUTO_SCALES) {
    progress(`choosing the scale: trying ${scale}x`, 0.04 + 0.06 * scale);
    const big = enlarged(crop.rgba, crop.rows, crop.columns, scale, false); // bilinear, as choose_scale
    const output = await networkOutput(session, settings, big.rgba, big.rows, big.columns);
    trials.push(trialOfOutput(scale, output.data, big.rows, big.columns, output.channels, settings));
    if (whole && scale === 1) cache.set(scale, output); // enlarged, the image itself is cubic
    if (trialsDecide(trials, settings.cell_area)) break;
  }
  return { scale: chooseScale(trials, settings.cell_area), trials };
}

async function decode(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  } catch {
    throw new Error(`${file.name}: this browser cannot read it as an image (truncated, not an image, or a format it does not decode)`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.fillStyle = "#ffffff"; // a transparent pixel is glass, as predict reads it (on_white)
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
  return { rgba: new Uint8ClampedArray(rgba.buffer), rows: canvas.height, columns: canvas.width };
}
