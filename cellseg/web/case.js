// A case: the images a doctor counts together. Each is found, rated and measured in a Web
// Worker, one after another from a queue (two at a time where the computer has two cores
// or more, each worker with its share of them); the page hears of every change.
//
// An image's record: { name, file, state ("queued", "running", "done", "error"), stage,
// fraction, message, refused (a file the page cannot count, never queued), and once done:
// rows, columns, rgba, labels, probability, cells, scale, reason, pixelSize, trials,
// counterstain (how much it was strengthened), countSpread (the model's, which widens the
// count's interval), seconds (where the time went), corrections, version (counted up
// whenever its cells change), and for the page: countSaved and cellsSaved (the version
// whose count, whose cells were last downloaded) }.

const WORKER_URL = new URL("./worker.js", import.meta.url);

export class Case {
  /**
   * `onChange(record)` hears of every change to an image (null: to the case as a whole);
   * `onReady()` that the model is loaded; `onFailure(message)` that it cannot be.
   */
  constructor({ onChange = () => {}, onReady = () => {}, onFailure = () => {} } = {}) {
    this.images = new Map();
    this.queue = [];
    this.jobs = new Map(); // job number -> record, for the images being found
    this.onChange = onChange;
    this.failure = null;
    const cores = navigator.hardwareConcurrency || 1;
    const asked = new URLSearchParams(location.search);
    const count = Number(asked.get("workers")) || Math.max(1, Math.min(2, cores));
    const threads = Number(asked.get("threads")) || Math.max(1, Math.floor(cores / count));
    let job = 0;
    this.nextJob = () => ++job;
    this.workers = Array.from({ length: count }, () => {
      const worker = new Worker(WORKER_URL, { type: "module" });
      const slot = { worker, job: null };
      worker.onmessage = ({ data }) => this.hear(slot, data, onReady, onFailure);
      worker.onerror = (event) => this.fail(event.message || "the page's worker failed to start", onFailure);
      worker.postMessage({ type: "start", threads });
      return slot;
    });
  }

  /** The images, in the order they were added. */
  get list() {
    return [...this.images.values()];
  }

  /** Whether images are waiting or being found. */
  get busy() {
    return this.queue.length > 0 || this.jobs.size > 0;
  }

  /** Add image files to the case (an image of the same name is replaced) and start them.
   *  `options`: { scale: "auto" or a number, pixelSize: micrometres or null }. */
  add(files, options) {
    for (const file of files) {
      const old = this.images.get(file.name);
      if (old) this.forget(old);
      const record = { name: file.name, file, corrections: [] };
      this.images.set(file.name, record);
      this.enqueue(record, options);
    }
    this.dispatch();
  }

  /** Add an image file the page cannot count, as a row with the reason, `message`. */
  refuse(file, message) {
    const old = this.images.get(file.name);
    if (old) this.forget(old);
    this.images.set(file.name, { name: file.name, file, corrections: [], state: "error", message, fraction: 1,
      refused: true });
    this.onChange(this.images.get(file.name));
    if (!this.busy) this.onChange(null);
  }

  /** Find every image's cells again (another scale, pixel size): corrections are lost. */
  rerun(options) {
    for (const record of this.images.values()) {
      if (record.refused) continue;
      this.forget(record);
      Object.assign(record, { corrections: [] });
      this.enqueue(record, options);
    }
    this.dispatch();
  }

  /** Empty the case. Images being found are let finish, their results dropped. */
  clear() {
    for (const record of this.images.values()) this.forget(record);
    this.images.clear();
    this.onChange(null);
  }

  enqueue(record, options) {
    for (const key of ["rows", "columns", "rgba", "labels", "probability", "cells", "scale", "reason", "pixelSize",
      "trials", "counterstain", "countSpread", "seconds", "message"]) {
      delete record[key];
    }
    Object.assign(record, { state: "queued", stage: "waiting", fraction: 0, options });
    if (this.failure) Object.assign(record, { state: "error", message: this.failure });
    else this.queue.push(record);
    this.onChange(record);
  }

  forget(record) {
    this.queue = this.queue.filter((queued) => queued !== record);
    for (const [job, held] of this.jobs) if (held === record) this.jobs.delete(job);
  }

  dispatch() {
    for (const slot of this.workers) {
      if (slot.job !== null || !this.queue.length) continue;
      const record = this.queue.shift();
      const job = this.nextJob();
      slot.job = job;
      this.jobs.set(job, record);
      Object.assign(record, { state: "running", stage: "starting", fraction: 0 });
      const { scale, pixelSize } = record.options;
      slot.worker.postMessage({ id: job, file: record.file, scale, pixelSize });
      this.onChange(record);
    }
  }

  hear(slot, data, onReady, onFailure) {
    if (data.type === "ready") return onReady();
    if (data.type === "failed") return this.fail(data.message, onFailure);
    const record = this.jobs.get(data.id);
    if (data.type !== "progress") {
      slot.job = null;
      this.jobs.delete(data.id);
    }
    if (record) {
      if (data.type === "progress") Object.assign(record, { stage: data.stage, fraction: data.fraction });
      else if (data.type === "error") Object.assign(record, { state: "error", message: data.message, fraction: 1 });
      else if (data.type === "done") {
        const { labels, probability, rgba, rows, columns, cells, scale, reason, pixelSize, trials, counterstain, countSpread,
          seconds } = data;
        Object.assign(record, { state: "done", fraction: 1, labels, probability, rgba, rows, columns, cells, scale, reason,
          pixelSize, trials, counterstain, countSpread, seconds, version: (record.version || 0) + 1 });
      }
      this.onChange(record);
    }
    this.dispatch();
    if (!this.busy) this.onChange(null);
  }

  fail(message, onFailure) {
    if (this.failure) return;
    this.failure = message;
    onFailure(message);
    for (const record of [...this.queue, ...this.jobs.values()]) {
      Object.assign(record, { state: "error", message });
      this.onChange(record);
    }
    this.queue = [];
    this.jobs.clear();
    this.onChange(null);
  }
}
