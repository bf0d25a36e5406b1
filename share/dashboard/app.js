// wb cluster dashboard: renders /api/status (the head's JSON), refreshed every second.
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  function text(id, v) { var e = $(id); if (e) e.textContent = String(v); }
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
      var bar = document.createElement("span"), fill = document.createElement("span");
      var f = Math.min(1, w.memory_used / w.memory_limit);
      bar.className = "bar"; fill.style.width = (f * 100).toFixed(0) + "%";
      if (f > 0.9) fill.className = "high";
      bar.appendChild(fill); span.appendChild(bar);
      span.appendChild(document.createTextNode(size(w.memory_used) + " / " + size(w.memory_limit)));
    } else {
      span.textContent = size(w.memory_used) + " (no limit)";
    }
    return span;
  }
  function chart(values) {
    var svg = $("tput-chart"), ns = "http://www.w3.org/2000/svg";
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var max = 1;
    values.forEach(function (v) { if (v > max) max = v; });
    var n = Math.max(values.length, 2), pts = [];
    values.forEach(function (v, i) {
      pts.push((i * 600 / (n - 1)).toFixed(1) + "," + (115 - v / max * 105).toFixed(1));
    });
    var line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", pts.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "#3b82c4");
    line.setAttribute("stroke-width", "2");
    svg.appendChild(line);
    text("chart-max", max);
  }
  function render(s) {
    text("head-address", s.address);
    text("head-version", s.version);
    text("head-uptime", dur(s.uptime));
    text("head-drivers", s.drivers);
    var alive = 0, threads = 0;
    var body = $("workers-body");
    while (body.firstChild) body.removeChild(body.firstChild);
    s.workers.forEach(function (w) {
      var tr = document.createElement("tr");
      tr.className = w.alive ? "alive" : "dead";
      tr.setAttribute("data-worker", w.id);
      if (w.alive) { alive++; threads += w.threads; }
      cell(tr, w.id, "num");
      cell(tr, w.address);
      cell(tr, w.alive ? "alive" : "removed: " + w.removed, "state");
      cell(tr, w.threads, "num w-threads");
      cell(tr, memory(w));
      cell(tr, w.objects, "num");
      cell(tr, w.tasks_running, "num");
      cell(tr, w.tasks_queued, "num");
      cell(tr, w.tasks_done, "num w-done");
      cell(tr, w.tasks_failed, "num");
      cell(tr, w.alive ? w.last_heartbeat.toFixed(1) + " s ago" : "-");
      cell(tr, w.plugins);
      body.appendChild(tr);
    });
    if (!s.workers.length) {
      var tr = document.createElement("tr");
      cell(tr, "no workers yet", "empty").colSpan = 12;
      body.appendChild(tr);
    }
    text("workers-alive", alive);
    text("threads-total", threads);
    text("tasks-running", s.tasks.running);
    text("tasks-queued", s.tasks.queued);
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
    var ul = $("errors");
    while (ul.firstChild) ul.removeChild(ul.firstChild);
    (s.errors || []).forEach(function (e) {
      var li = document.createElement("li");
      li.textContent = new Date(e.time * 1000).toLocaleTimeString() + "  " + e.message;
      ul.appendChild(li);
    });
    if (!s.errors || !s.errors.length) {
      var li = document.createElement("li");
      li.className = "empty"; li.textContent = "none";
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
      text("conn-state", "head unreachable"); $("conn-state").className = "bad";
    });
  }
  try {
    var init = JSON.parse($("wb-initial").textContent);
    if (init && init.workers) render(init);
  } catch (e) { /* no initial status */ }
  refresh();
  setInterval(refresh, 1000);
})();
