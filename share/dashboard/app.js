// wb dashboard: renders /api/status (the head's JSON, or the local
// executor's for wb.dashboard()), refreshed every second: the figures, the
// running jobs with their progress, the task stream, memory and CPU over
// time, the workers, the objects they hold, the log and the errors.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var PALETTE = ["#3b82c4", "#e08a2b", "#3b9c5a", "#c8453c", "#8a63c4", "#8c5a3c", "#d36fb2", "#6f7780",
                 "#b5b52e", "#2eb5c2", "#1f4e8c", "#9c6b00"];
  function $(id) { return document.getElementById(id); }
  function text(id, v) { var e = $(id); if (e) e.textContent = String(v); }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function el(tag, cls, txt) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (txt !== undefined) e.textContent = String(txt);
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    return e;
  }
  function size(b) {
    var u = ["B", "KB", "MB", "GB", "TB"], i = 0;
    while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
    return (i ? b.toFixed(1) : String(b)) + " " + u[i];
  }
  function dur(s) {
    if (s < 60) return s.toFixed(0) + " s";
    if (s < 3600) return (s / 60).toFixed(1) + " min";
    return (s / 3600).toFixed(1) + " h";
  }
  // as the terminal's progress line: 4.2s, 38s, 2m05s, 1h02m
  function secs(t) {
    if (t < 0) t = 0;
    if (t < 10) return t.toFixed(1) + "s";
    if (t < 60) return t.toFixed(0) + "s";
    if (t < 3600) return Math.floor(t / 60) + "m" + ("0" + Math.floor(t % 60)).slice(-2) + "s";
    return Math.floor(t / 3600) + "h" + ("0" + Math.floor(t % 3600 / 60)).slice(-2) + "m";
  }
  function plural(n, w) { return n + " " + w + (n === 1 ? "" : "s"); }
  function clock(ago) {
    var d = new Date(Date.now() - ago * 1000);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2) + ":" + ("0" + d.getSeconds()).slice(-2);
  }
  // one colour per kernel name, the same at every refresh
  function colour(name) {
    var h = 0;
    for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
    return PALETTE[h % PALETTE.length];
  }
  function cell(tr, v, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    if (v instanceof Node) td.appendChild(v); else td.textContent = String(v);
    tr.appendChild(td);
    return td;
  }
  function memory(w) {
    var span = document.createElement("span");
    if (w.memory_limit > 0) {
      var bar = el("span", "bar"), fill = document.createElement("span");
      var f = Math.min(1, w.memory_used / w.memory_limit);
      fill.style.width = (f * 100).toFixed(0) + "%";
      if (f > 0.9) fill.className = "high";
      bar.appendChild(fill); span.appendChild(bar);
      span.appendChild(document.createTextNode(size(w.memory_used) + " / " + size(w.memory_limit)));
    } else {
      span.textContent = size(w.memory_used) + " (no limit)";
    }
    return span;
  }

  // ------------------------------------------------------------ the jobs
  function renderJobs(jobs, local) {
    var box = clear($("jobs"));
    (jobs || []).forEach(function (j) {
      if (!j.stages || !j.stages.length) return;
      var div = el("div", "job");
      div.setAttribute("data-driver", String(j.driver));
      div.setAttribute("data-estimator", j.stages[0].name);
      div.appendChild(el("div", "who", local ? "this process" : "driver " + j.driver));
      j.stages.forEach(function (st, i) {
        var row = el("div", "stage");
        row.setAttribute("data-stage", st.name);
        row.appendChild(el("span", "name", (i ? "\u21b3 " : "") + st.name));
        var pb = el("span", "pbar"), fill = document.createElement("span");
        var f = st.total > 0 ? Math.min(1, st.done / st.total) : 0;
        fill.style.width = (f * 100).toFixed(1) + "%";
        pb.appendChild(fill);
        row.appendChild(pb);
        var nums = st.total > 0 ? st.done + "/" + st.total + " (" + (100 * st.done / st.total).toFixed(0) + "%)" : String(st.done);
        nums += " " + secs(st.elapsed) + (st.eta >= 0 ? " ETA " + secs(st.eta) : "") + (st.info ? "  " + st.info : "");
        var n = el("span", "nums job-count", nums);
        row.appendChild(n);
        div.appendChild(row);
      });
      box.appendChild(div);
    });
    if (!box.firstChild) box.appendChild(el("div", "empty", "no job running"));
  }

  // ------------------------------------------------------ the task stream
  function renderStream(s) {
    var st = s.stream || {tasks: [], kernels: [], window: 120};
    var win = st.window || 120;
    text("stream-window", win);
    var box = clear($("stream"));
    // lanes: the threads of each worker (more if a task names a higher thread)
    var lanes = [], laneOf = {}, maxThread = {};
    st.tasks.forEach(function (t) { maxThread[t[0]] = Math.max(maxThread[t[0]] || 0, t[1] + 1); });
    s.workers.forEach(function (w) {
      if (!w.alive && !maxThread[w.id]) return;
      var n = Math.max(w.threads || 1, maxThread[w.id] || 0);
      for (var k = 0; k < n; k++) {
        laneOf[w.id + ":" + k] = lanes.length;
        lanes.push({worker: w.id, thread: k});
      }
    });
    var LH = 14, GAP = 5, X0 = 86, X1 = 1090, top = 4, y = top, ys = [], last = null;
    lanes.forEach(function (l) {
      if (last !== null && l.worker !== last) y += GAP;
      ys.push(y);
      y += LH;
      last = l.worker;
    });
    var H = Math.max(y + 16, 40);
    box.setAttribute("viewBox", "0 0 1100 " + H);
    box.style.height = H + "px";
    lanes.forEach(function (l, i) {
      box.appendChild(svg("rect", {x: X0, y: ys[i], width: X1 - X0, height: LH - 2, fill: i % 2 ? "#f4f6f9" : "#eef1f5"}));
      var lab = svg("text", {x: 4, y: ys[i] + LH - 4});
      lab.textContent = (s.kind === "local" ? "thread " : "w" + l.worker + " t") + l.thread;
      box.appendChild(lab);
    });
    function X(ago) { return X0 + Math.max(0, Math.min(1, 1 - ago / win)) * (X1 - X0); }
    var shown = 0, used = {};
    st.tasks.forEach(function (t) {
      var lane = laneOf[t[0] + ":" + t[1]];
      if (lane === undefined) return;
      var name = st.kernels[t[2]] || "?";
      var x0 = X(t[3]), x1 = X(t[4]);
      var r = svg("rect", {x: x0.toFixed(1), y: ys[lane] + 1, width: Math.max(0.8, x1 - x0).toFixed(1), height: LH - 4,
                           fill: colour(name), "class": "task", "data-worker": t[0], "data-kernel": name});
      if (!t[5]) { r.setAttribute("stroke", "#c8453c"); r.setAttribute("stroke-width", "1.5"); }
      var tip = svg("title", {});
      tip.textContent = name + " on " + (s.kind === "local" ? "thread " + t[1] : "worker " + t[0] + " thread " + t[1]) +
        ": " + ((t[3] - t[4]) * 1000).toFixed(1) + " ms" + (t[5] ? "" : " (failed)");
      r.appendChild(tip);
      box.appendChild(r);
      used[name] = (used[name] || 0) + 1;
      shown++;
    });
    for (var k = 0; k <= 4; k++) {
      var ago = win * (4 - k) / 4, x = X(ago);
      box.appendChild(svg("line", {x1: x, x2: x, y1: top, y2: H - 14, stroke: "#c9d1da", "stroke-dasharray": "2 3"}));
      var lt = svg("text", {x: x, y: H - 3, "text-anchor": k === 4 ? "end" : "middle"});
      lt.textContent = ago ? "-" + ago.toFixed(0) + " s" : "now";
      box.appendChild(lt);
    }
    box.setAttribute("data-tasks", String(shown));
    var leg = clear($("stream-legend"));
    Object.keys(used).sort().forEach(function (name) {
      var it = el("span", "item");
      it.setAttribute("data-kernel", name);
      var sw = el("span", "swatch");
      sw.style.background = colour(name);
      it.appendChild(sw);
      it.appendChild(document.createTextNode(name + " (" + used[name] + ")"));
      leg.appendChild(it);
    });
    if (!shown) leg.appendChild(el("span", "empty", "no task in the last " + win + " s"));
  }

  // -------------------------------------------- memory and CPU over time
  function lineChart(id, workers, pick, unit, span) {
    var box = clear($(id)), W = 540, H = 160, X0 = 44, X1 = 530, Y0 = 8, Y1 = 140;
    var max = 0;
    workers.forEach(function (w) { (w.history && w.history[pick] || []).forEach(function (v) { if (unit(v) > max) max = unit(v); }); });
    max = max > 0 ? max * 1.1 : 1;
    for (var k = 0; k <= 2; k++) {
      var yv = Y1 - (Y1 - Y0) * k / 2;
      box.appendChild(svg("line", {x1: X0, x2: X1, y1: yv, y2: yv, stroke: "#e4e8ee"}));
      var t = svg("text", {x: X0 - 4, y: yv + 3, "text-anchor": "end"});
      t.textContent = (max * k / 2).toFixed(max < 10 ? 1 : 0);
      box.appendChild(t);
    }
    var lt = svg("text", {x: X0, y: H - 4});
    lt.textContent = "-" + span + " s";
    box.appendChild(lt);
    var rt = svg("text", {x: X1, y: H - 4, "text-anchor": "end"});
    rt.textContent = "now";
    box.appendChild(rt);
    workers.forEach(function (w, i) {
      var h = w.history;
      if (!h || !h.ago || !h.ago.length) return;
      var pts = [];
      for (var j = 0; j < h.ago.length; j++) {
        if (h.ago[j] > span) continue;
        var x = X0 + (1 - h.ago[j] / span) * (X1 - X0), v = unit(h[pick][j]);
        pts.push(x.toFixed(1) + "," + (Y1 - v / max * (Y1 - Y0)).toFixed(1));
      }
      if (!pts.length) return;
      var c = PALETTE[i % PALETTE.length];
      box.appendChild(svg("polyline", {points: pts.join(" "), fill: "none", stroke: c, "stroke-width": 2,
                                       "data-worker": w.id, "data-points": pts.length}));
      var lg = svg("text", {x: X0 + 6 + 90 * i, y: Y0 + 10, fill: c});
      lg.textContent = w.id === 1 && workers.length === 1 && w.address.indexOf("local") === 0 ? "this process" : "worker " + w.id;
      box.appendChild(lg);
    });
  }

  // ------------------------------------------------- objects per worker
  function renderObjects(workers) {
    var box = clear($("objects"));
    var grid = el("div", "objs");
    workers.forEach(function (w) {
      if (!w.alive) return;
      var div = el("div", "held");
      div.setAttribute("data-worker", w.id);
      div.appendChild(el("h3", "", (w.address.indexOf("local") === 0 ? "this process" : "worker " + w.id + " (" + w.address + ")") +
        ": " + plural(w.held_count || 0, "object") + ", " + size(w.held_bytes || 0)));
      var t = el("table"), head = el("tr");
      ["object", "kind", "shape", "size", "made by", "copies"].forEach(function (h) { head.appendChild(el("th", "", h)); });
      t.appendChild(head);
      (w.held || []).forEach(function (o) {
        var tr = el("tr", "obj");
        cell(tr, o.id);
        cell(tr, o.kind);
        cell(tr, o.kind === "partition" ? o.rows.toLocaleString() + " x " + o.cols : "-", "num");
        cell(tr, size(o.bytes), "num");
        cell(tr, o.made_by || "-");
        cell(tr, o.copies, "num");
        t.appendChild(tr);
      });
      if (!(w.held || []).length) {
        var tr = el("tr");
        cell(tr, "none", "empty").colSpan = 6;
        t.appendChild(tr);
      }
      div.appendChild(t);
      grid.appendChild(div);
    });
    box.appendChild(grid.firstChild ? grid : el("div", "empty", "none"));
  }

  function chart(values) {
    var box = clear($("tput-chart"));
    var max = 1;
    values.forEach(function (v) { if (v > max) max = v; });
    var n = Math.max(values.length, 2), pts = [];
    values.forEach(function (v, i) {
      pts.push((i * 600 / (n - 1)).toFixed(1) + "," + (115 - v / max * 105).toFixed(1));
    });
    box.appendChild(svg("polyline", {points: pts.join(" "), fill: "none", stroke: "#3b82c4", "stroke-width": 2}));
    text("chart-max", max);
  }

  function render(s) {
    var local = s.kind === "local";
    document.body.setAttribute("data-kind", local ? "local" : "cluster");
    text("title", local ? "wb: local executor" : "wb cluster");
    document.title = local ? "wb local executor" : "wb cluster";
    text("head-what", local ? "" : "head");
    text("head-address", s.address);
    text("head-version", s.version);
    text("head-uptime", dur(s.uptime));
    text("head-drivers", s.drivers);
    text("head-drivers-word", s.drivers === 1 ? "driver" : "drivers");
    text("workers-label", local ? "threads" : "workers");
    text("workers-heading", local ? "The local executor" : "Workers");
    var alive = 0, threads = 0, cpu = 0, running = 0;
    var body = clear($("workers-body"));
    s.workers.forEach(function (w) {
      var tr = document.createElement("tr");
      tr.className = w.alive ? "alive" : "dead";
      tr.setAttribute("data-worker", w.id);
      if (w.alive) { alive++; threads += w.threads; cpu += w.cpu || 0; running += w.tasks_running; }
      cell(tr, w.id, "num");
      cell(tr, w.address);
      cell(tr, w.alive ? "alive" : "removed: " + w.removed, "state");
      cell(tr, w.threads, "num w-threads");
      cell(tr, (w.cpu || 0).toFixed(2), "num w-cpu");
      cell(tr, memory(w));
      cell(tr, w.objects, "num");
      cell(tr, w.tasks_running, "num w-running");
      cell(tr, w.tasks_queued, "num w-queued");
      cell(tr, w.tasks_done, "num w-done");
      cell(tr, w.tasks_failed, "num w-failed");
      cell(tr, local ? "-" : (w.alive ? w.last_heartbeat.toFixed(1) + " s ago" : "-"));
      cell(tr, w.plugins || "-");
      body.appendChild(tr);
    });
    if (!s.workers.length) {
      var tr = document.createElement("tr");
      cell(tr, "no workers yet", "empty").colSpan = 13;
      body.appendChild(tr);
    }
    text("workers-alive", local ? threads : alive);
    text("threads-total", local ? "of this process:" : threads);
    text("threads-word", local ? "" : " threads,");
    text("assigned-word", local ? "" : " sent to workers, ");
    text("objects-heading", local ? "Objects this process holds" : "Objects each worker holds");
    text("cpu-total", cpu.toFixed(1));
    text("tasks-running", s.tasks.running);
    text("tasks-assigned", local ? "" : (s.tasks.assigned !== undefined ? s.tasks.assigned : s.tasks.running));
    text("tasks-queued", s.tasks.queued + (s.tasks.queued_on_workers || 0));
    text("tasks-waiting", s.tasks.waiting);
    text("tasks-done", s.tasks.done);
    text("tasks-submitted", s.tasks.submitted);
    text("tasks-failed", s.tasks.failed);
    text("tasks-retried", s.tasks.retried);
    text("tasks-rebuilt", s.tasks.rebuilt);
    text("objects-count", s.objects.count);
    text("objects-bytes", size(s.objects.bytes));
    var t = s.throughput || [];
    var peak = 0;
    t.forEach(function (v) { if (v > peak) peak = v; });
    text("tput-now", t.length > 1 ? t[t.length - 2] : 0);
    text("tput-peak", peak);
    chart(t);
    renderJobs(s.jobs, local);
    renderStream(s);
    var ws = s.workers.filter(function (w) { return w.alive; });
    lineChart("mem-chart", ws, "rss", function (v) { return v / 1048576; }, 180);
    lineChart("cpu-chart", ws, "cpu", function (v) { return v; }, 180);
    renderObjects(s.workers);
    var logs = clear($("logs"));
    (s.logs || []).forEach(function (l) {
      var d = el("div", "logline " + l.level);
      d.appendChild(el("span", "t", clock(l.ago) + " "));
      d.appendChild(el("span", "src", l.source + " "));
      d.appendChild(document.createTextNode((l.level === "info" ? "" : l.level + ": ") + l.message));
      logs.appendChild(d);
    });
    if (!logs.firstChild) logs.appendChild(el("div", "empty", "none"));
    else logs.scrollTop = logs.scrollHeight;
    var ul = clear($("errors"));
    (s.errors || []).forEach(function (e) {
      var li = document.createElement("li");
      li.textContent = new Date(e.time * 1000).toLocaleTimeString() + "  " + e.message;
      ul.appendChild(li);
    });
    if (!s.errors || !s.errors.length) {
      var li = el("li", "empty", "none");
      ul.appendChild(li);
    }
    document.body.setAttribute("data-rendered", "1");
  }
  function refresh() {
    fetch("api/status", {cache: "no-store"}).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (s) {
      render(s);
      text("conn-state", "live"); $("conn-state").className = "ok";
    }).catch(function () {
      text("conn-state", "unreachable"); $("conn-state").className = "bad";
    });
  }
  try {
    var init = JSON.parse($("wb-initial").textContent);
    if (init && init.workers) render(init);
  } catch (e) { /* no initial status */ }
  refresh();
  setInterval(refresh, 1000);
})();
