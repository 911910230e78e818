// A Richards-style OS task scheduler simulation (ES5; written for this
// suite after the classic benchmark's structure: tasks, packets, queues).
var out = typeof print === 'function' ? print : console.log;
var IDLE = 0, WORKER = 1, HANDLER_A = 2, HANDLER_B = 3, DEVICE_A = 4, DEVICE_B = 5, NTASKS = 6;
function Packet(link, id, kind) { this.link = link; this.id = id; this.kind = kind; this.a1 = 0; this.a2 = [0, 0, 0, 0]; }
Packet.prototype.append = function (queue) {
  this.link = null;
  if (queue === null) return this;
  var p = queue; while (p.link !== null) p = p.link; p.link = this; return queue;
};
function Task(sched, id, pri, queue, fn, state) {
  this.sched = sched; this.id = id; this.pri = pri; this.queue = queue; this.fn = fn; this.state = state;
  this.held = false; this.waiting = queue === null; this.v1 = 0; this.v2 = 0;
}
Task.prototype.runnable = function () { return !this.held && (!this.waiting || this.queue !== null); };
function Scheduler() { this.tasks = []; this.list = null; this.current = null; this.queueCount = 0; this.holdCount = 0; }
Scheduler.prototype.add = function (id, pri, queue, fn) {
  var t = new Task(this, id, pri, queue, fn); this.tasks[id] = t;
  // keep the list sorted by priority, highest first
  if (this.list === null || this.list.pri < pri) { t.next = this.list; this.list = t; }
  else { var p = this.list; while (p.next && p.next.pri >= pri) p = p.next; t.next = p.next; p.next = t; }
};
Scheduler.prototype.run = function () {
  this.current = this.list;
  while (this.current !== null) {
    var t = this.current;
    if (t.runnable()) {
      var pkt = null;
      if (t.queue !== null && t.waiting) { pkt = t.queue; t.queue = pkt.link; t.waiting = false; }
      var next = t.fn(t, pkt);
      this.current = next === undefined ? t : next;
    } else this.current = t.next;
  }
};
Scheduler.prototype.release = function (id) { var t = this.tasks[id]; t.held = false; return t.pri > this.current.pri ? t : this.current; };
Scheduler.prototype.hold = function () { this.holdCount++; this.current.held = true; return this.current.next; };
Scheduler.prototype.wait = function () { this.current.waiting = true; return this.current; };
Scheduler.prototype.queue = function (pkt) {
  var t = this.tasks[pkt.id]; this.queueCount++; pkt.link = null; pkt.id = this.current.id;
  if (t.queue === null && t.waiting) { t.queue = pkt; t.waiting = true; return t.pri > this.current.pri ? t : this.current; }
  t.queue = pkt.append(t.queue); return this.current;
};
function idleFn(t) {
  t.v2--; if (t.v2 === 0) return t.sched.hold();
  if ((t.v1 & 1) === 0) { t.v1 = t.v1 >> 1; return t.sched.release(DEVICE_A); }
  t.v1 = (t.v1 >> 1) ^ 0xd008; return t.sched.release(DEVICE_B);
}
function workerFn(t, pkt) {
  if (pkt === null) return t.sched.wait();
  t.v1 = t.v1 === HANDLER_A ? HANDLER_B : HANDLER_A; pkt.id = t.v1; pkt.a1 = 0;
  for (var i = 0; i < 4; i++) { t.v2++; if (t.v2 > 26) t.v2 = 1; pkt.a2[i] = t.v2; }
  return t.sched.queue(pkt);
}
function handlerFn(t, pkt) {
  if (pkt !== null) { if (pkt.kind === 1) t.v1 = pkt.append(t.v1 || null); else t.v2 = pkt.append(t.v2 || null); }
  if (t.v1) {
    var w = t.v1, count = w.a1;
    if (count < 4) {
      if (t.v2) { var d = t.v2; t.v2 = d.link; d.a1 = w.a2[count]; w.a1 = count + 1; return t.sched.queue(d); }
    } else { t.v1 = w.link; return t.sched.queue(w); }
  }
  return t.sched.wait();
}
function deviceFn(t, pkt) {
  if (pkt === null) { if (!t.v1) return t.sched.wait(); var v = t.v1; t.v1 = null; return t.sched.queue(v); }
  t.v1 = pkt; return t.sched.hold();
}
function richards() {
  var s = new Scheduler();
  s.add(IDLE, 0, null, idleFn); s.tasks[IDLE].v1 = 1; s.tasks[IDLE].v2 = 10000; s.tasks[IDLE].waiting = false;
  var q = new Packet(null, WORKER, 1); q = new Packet(q, WORKER, 1);
  s.add(WORKER, 1000, q, workerFn);
  q = new Packet(null, DEVICE_A, 0); q = new Packet(q, DEVICE_A, 0); q = new Packet(q, DEVICE_A, 0);
  s.add(HANDLER_A, 2000, q, handlerFn);
  q = new Packet(null, DEVICE_B, 0); q = new Packet(q, DEVICE_B, 0); q = new Packet(q, DEVICE_B, 0);
  s.add(HANDLER_B, 3000, q, handlerFn);
  s.add(DEVICE_A, 4000, null, deviceFn); s.add(DEVICE_B, 5000, null, deviceFn);
  s.run();
  return s.queueCount + ' ' + s.holdCount;
}
var r; for (var i = 0; i < 20; i++) r = richards();
out('richards ' + r);
