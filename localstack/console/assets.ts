/**
 * The console's stylesheet and its one script, served from the console itself (the pages load nothing from
 * elsewhere, and the Content-Security-Policy allows nothing else).
 */

export const STYLESHEET = `
:root { --ink: #16191f; --muted: #5f6b7a; --line: #d5dbdb; --panel: #ffffff; --page: #f2f3f3;
  --blue: #0972d3; --blue-bg: #dff0ff; --green: #037f0c; --green-bg: #e6f4e7; --red: #d91515; --red-bg: #fff1f0;
  --orange: #b85c00; --orange-bg: #fff4e5; --grey-bg: #f4f4f4; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 "DejaVu Sans", Arial, Helvetica, sans-serif; color: var(--ink); background: var(--page); }
a { color: var(--blue); }
header.top { background: #232f3e; color: #fff; padding: 10px 24px; display: flex; gap: 16px; align-items: baseline; }
header.top a { color: #fff; text-decoration: none; font-weight: bold; font-size: 16px; }
header.top .machine { color: #c6cdd6; font-size: 13px; }
main { padding: 16px 24px 40px; max-width: 1500px; }
h1 { font-size: 22px; margin: 4px 0 4px; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
h2 { font-size: 16px; margin: 0 0 10px; }
section.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin: 14px 0; }
.meta { color: var(--muted); font-size: 13px; margin: 6px 0; }
.live-note::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: var(--blue); margin-right: 6px; animation: pulse 1.4s infinite; }
.refresh-failed { color: var(--red); }
@keyframes pulse { 0%, 100% { opacity: 1; } 50% { opacity: 0.25; } }
form.filters { display: flex; gap: 14px; align-items: flex-end; flex-wrap: wrap; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; font-weight: bold; color: var(--muted); gap: 3px; }
form.filters select, form.filters input { font: inherit; padding: 5px 8px; border: 1px solid #8c8c94; border-radius: 6px; min-width: 180px; }
form.filters input { min-width: 300px; }
button { font: inherit; font-weight: bold; padding: 6px 16px; border-radius: 16px; border: 1px solid var(--blue); background: var(--blue); color: #fff; cursor: pointer; }
table { border-collapse: collapse; width: 100%; background: var(--panel); }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); background: #fafafa; white-space: nowrap; }
table.executions tbody tr:hover { background: #f5f9ff; }
td.mono, .mono { font-family: "DejaVu Sans Mono", monospace; font-size: 12.5px; }
td small, dd small { color: var(--muted); display: block; }
.status { display: inline-block; font-size: 12px; font-weight: bold; padding: 2px 10px; border-radius: 12px; white-space: nowrap; }
.status-RUNNING { color: var(--blue); background: var(--blue-bg); }
.status-SUCCEEDED { color: var(--green); background: var(--green-bg); }
.status-FAILED, .status-TIMED_OUT { color: var(--red); background: var(--red-bg); }
.status-ABORTED, .status-PENDING_REDRIVE { color: var(--orange); background: var(--orange-bg); }
.outcome { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; white-space: nowrap; border: 1px solid currentColor; }
.outcome-delivered { color: var(--green); }
.outcome-not-entitled, .outcome-invalid-mous-uid, .outcome-mous-not-delivered { color: var(--blue); }
.outcome-failed { color: var(--red); }
.outcome-cancelled, .outcome-stopped { color: var(--orange); }
.outcome-running { color: var(--muted); border-style: dashed; }
.why { color: var(--muted); font-size: 12px; }
dl.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 10px 24px; margin: 0; }
dl.summary div { min-width: 0; }
dl.summary dt { font-size: 12px; color: var(--muted); font-weight: bold; }
dl.summary dd { margin: 2px 0 0; overflow-wrap: anywhere; }
.current-state { font-weight: bold; color: var(--blue); }
section.failure { border-color: var(--red); background: var(--red-bg); }
section.failure h2 { color: var(--red); }
section.failure .cause { font-size: 15px; margin: 4px 0 8px; white-space: pre-wrap; overflow-wrap: anywhere; }
.io-columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 14px; }
.io-columns h2 { margin-bottom: 6px; }
.graph-scroll { max-height: 80vh; overflow: auto; border: 1px solid var(--line); border-radius: 6px; background: #fbfbfb; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 14px; font-size: 12px; color: var(--muted); margin-bottom: 8px; }
.legend span::before { content: ""; display: inline-block; width: 12px; height: 12px; border-radius: 3px; margin-right: 5px; vertical-align: -2px; border: 2px solid; }
.legend .l-current::before { background: var(--blue-bg); border-color: var(--blue); }
.legend .l-passed::before { background: var(--green-bg); border-color: var(--green); }
.legend .l-caught::before { background: var(--orange-bg); border-color: var(--orange); }
.legend .l-failed::before { background: var(--red-bg); border-color: var(--red); }
.legend .l-unvisited::before { background: #fff; border-color: #aab7b8; }
.legend .l-catch::before { border: none; border-top: 2px dashed var(--orange); border-radius: 0; height: 0; width: 18px; vertical-align: 3px; }
svg.graph { display: block; margin: 0 auto; }
svg.graph text { font: 12px "DejaVu Sans", Arial, sans-serif; text-anchor: middle; fill: var(--ink); }
svg.graph .shape { fill: #fff; stroke: #aab7b8; stroke-width: 1.5; }
svg.graph .state-unvisited text.label { fill: #687078; }
svg.graph .start .shape { fill: #232f3e; stroke: #232f3e; }
svg.graph text.start-label { fill: #fff; font-size: 10px; font-weight: bold; }
svg.graph .state-succeeded .shape { fill: var(--green-bg); stroke: var(--green); stroke-width: 2; }
svg.graph .state-caught .shape { fill: var(--orange-bg); stroke: var(--orange); stroke-width: 2; }
svg.graph .state-failed .shape, svg.graph .state-aborted .shape { fill: var(--red-bg); stroke: var(--red); stroke-width: 2.5; }
svg.graph .state-running .shape { fill: var(--blue-bg); stroke: var(--blue); stroke-width: 3; animation: beat 1.4s infinite; }
@keyframes beat { 0%, 100% { stroke-width: 3; } 50% { stroke-width: 5.5; } }
svg.graph .state-running text.label, svg.graph .state-failed text.label { font-weight: bold; }
svg.graph .clock { fill: none; stroke: #687078; stroke-width: 1.3; }
svg.graph text.visits { font-size: 10px; fill: var(--muted); text-anchor: end; }
svg.graph .edge { fill: none; stroke: #aab7b8; stroke-width: 1.3; }
svg.graph .edge.catch { stroke: var(--orange); stroke-dasharray: 5 4; stroke-width: 1.3; }
svg.graph .catches { display: none; }
svg.graph .with-catches:hover .catches { display: inline; }
svg.graph .edge.taken { stroke: var(--green); stroke-width: 2.6; opacity: 1; }
svg.graph .edge.catch.taken { stroke: var(--orange); stroke-dasharray: 6 4; }
svg.graph marker path { fill: #aab7b8; }
svg.graph marker.arrow-taken path { fill: var(--green); }
svg.graph marker.arrow-caught path { fill: var(--orange); }
pre { margin: 0; background: var(--grey-bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; font: 12px/1.4 "DejaVu Sans Mono", monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
.io pre { max-height: 60vh; overflow: auto; }
tr:target, details:target { background: #fff8d6; }
details > summary { cursor: pointer; color: var(--blue); }
details[open] > summary { margin-bottom: 6px; }
dl.event { margin: 0; }
dl.event dt { font-size: 12px; color: var(--muted); font-weight: bold; margin-top: 6px; }
dl.event dd { margin: 2px 0 0; }
tr.step-caught td.step-status, tr.event-failure td { color: var(--orange); }
tr.step-failed td.step-status, tr.step-aborted td.step-status { color: var(--red); font-weight: bold; }
tr.step-running td.step-status { color: var(--blue); font-weight: bold; }
tr.step-succeeded td.step-status { color: var(--green); }
tr.event-failure td { color: var(--red); }
.step-error { color: var(--red); margin-top: 4px; overflow-wrap: anywhere; }
.step-error.retried { color: var(--orange); }
.empty { padding: 18px; text-align: center; color: var(--muted); background: var(--panel); }
tr.fold td:nth-child(2) small { color: var(--muted); display: block; }
tr.fold { background: #f8fafc; }
tr.in-fold td:first-child { border-left: 3px solid var(--line); }
tr.pager td { text-align: center; background: #fafafa; }
svg.graph g.node[data-state] { cursor: pointer; }
svg.graph g.node.chosen .shape { stroke-dasharray: 4 2; }
svg.graph g.node:focus { outline: none; }
svg.graph g.node:focus .shape { stroke-width: 3.5; }
.graph-and-state { display: grid; grid-template-columns: minmax(0, 1fr) minmax(280px, 30%); gap: 12px; align-items: start; }
@media (max-width: 900px) { .graph-and-state { grid-template-columns: minmax(0, 1fr); } }
.state-io { max-height: 80vh; overflow: auto; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
.state-io h3 { font-size: 15px; margin: 0 0 4px; overflow-wrap: anywhere; }
.state-io h4 { font-size: 13px; margin: 6px 0 4px; }
.state-io .io-columns { grid-template-columns: minmax(0, 1fr); gap: 4px; }
.state-io pre { max-height: 36vh; overflow: auto; }
`;

/**
 * The list refreshes `#live` in place every `data-refresh-ms` (always). A running execution's page asks its
 * `data-updates` address for what changed since its newest event (`data-after`) and puts each part in place:
 * the top anew, changed graph parts and step rows by their `data-key`, new events under the others. Opened
 * details survive, and the graph stays centred on the current state until the reader scrolls it. Details,
 * older rows, a folded loop's steps and a graph state's last input and output are fetched when asked for.
 * Fragments come from the console, which escapes every value in them.
 */
export const SCRIPT = `
(function () {
  'use strict';
  var graphMoved = false;

  function centreCurrentState() {
    var scroller = document.querySelector('.graph-scroll');
    var current = document.querySelector('.graph .state-running') || document.querySelector('.graph .last');
    if (!scroller || !current || graphMoved) return;
    var box = scroller.getBoundingClientRect();
    var node = current.getBoundingClientRect();
    scroller.scrollTop += node.top - box.top - scroller.clientHeight / 2 + node.height / 2;
    scroller.scrollLeft += node.left - box.left - scroller.clientWidth / 2 + node.width / 2;
  }

  function watchGraph() {
    var scroller = document.querySelector('.graph-scroll');
    if (!scroller) return;
    ['wheel', 'mousedown', 'touchstart', 'keydown'].forEach(function (name) {
      scroller.addEventListener(name, function () { graphMoved = true; }, { passive: true });
    });
  }

  function get(url) {
    return fetch(url, { cache: 'no-store', headers: { 'x-console-refresh': '1' } }).then(function (response) {
      if (!response.ok) throw new Error('HTTP ' + response.status);
      return response;
    });
  }

  function text(url) {
    return get(url).then(function (response) { return response.text(); });
  }

  function byKey(parent, key) {
    return parent.querySelector('[data-key="' + CSS.escape(String(key)) + '"]');
  }

  /** Puts markup in the place of element, keeping the details opened in it open; returns the new element. */
  function replace(element, markup) {
    var open = Array.prototype.map.call(element.querySelectorAll('details[open][id]'), function (details) { return details.id; });
    element.insertAdjacentHTML('afterend', markup);
    var fresh = element.nextElementSibling;
    element.remove();
    open.forEach(function (id) { var details = document.getElementById(id); if (details) details.open = true; });
    return fresh;
  }

  function failed(error) {
    var note = document.querySelector('#live .live-note');
    if (note) { note.textContent = 'Could not refresh (' + error.message + '); trying again.'; note.classList.add('refresh-failed'); }
  }

  function schedule() {
    var live = document.getElementById('live');
    var every = live ? Number(live.getAttribute('data-refresh-ms')) : 0;
    if (every > 0) setTimeout(live.hasAttribute('data-updates') ? update : refresh, every);
  }

  /** The list: the whole of #live anew. */
  function refresh() {
    text(location.href)
      .then(function (markup) {
        var next = new DOMParser().parseFromString(markup, 'text/html');
        var fresh = next.getElementById('live');
        var live = document.getElementById('live');
        if (fresh && live) live.replaceWith(document.adoptNode(fresh));
      })
      .catch(failed)
      .then(schedule);
  }

  function applyGraph(changes) {
    var svg = document.querySelector('svg.graph');
    if (!svg) return;
    changes.removed.forEach(function (key) { var part = byKey(svg, key); if (part) part.remove(); });
    changes.changed.forEach(function (part) {
      var shown = byKey(svg, part.key);
      if (shown) replace(shown, part.html);
      else svg.querySelector(part.key.indexOf('edge:') === 0 ? 'g.edges' : 'g.nodes').insertAdjacentHTML('beforeend', part.html);
    });
  }

  function removeRow(body, key) {
    var row = byKey(body, key);
    if (row) row.remove();
    Array.prototype.forEach.call(body.querySelectorAll('tr[data-fold="' + key + '"]'), function (unfolded) { unfolded.remove(); });
  }

  /** Step rows in the order of their keys (their first step), a row that changed in its own place. */
  function applySteps(changes) {
    var body = document.getElementById('steps-body');
    if (!body) return;
    changes.removed.forEach(function (key) { removeRow(body, key); });
    changes.changed.forEach(function (row) {
      var shown = byKey(body, row.key);
      if (shown) {
        Array.prototype.forEach.call(body.querySelectorAll('tr[data-fold="' + row.key + '"]'), function (unfolded) { unfolded.remove(); });
        replace(shown, row.html);
        return;
      }
      var later = Array.prototype.find.call(body.querySelectorAll('tr[data-key]'), function (other) { return Number(other.getAttribute('data-key')) > row.key; });
      if (later) later.insertAdjacentHTML('beforebegin', row.html);
      else body.insertAdjacentHTML('beforeend', row.html);
    });
  }

  /** A running execution: only what changed since the newest event shown. */
  function update() {
    var live = document.getElementById('live');
    text(live.getAttribute('data-updates') + '?after=' + encodeURIComponent(live.getAttribute('data-after')))
      .then(function (answer) {
        var changes = JSON.parse(answer);
        replace(document.getElementById('live-head'), changes.head);
        applyGraph(changes.graph);
        applySteps(changes.steps);
        var events = document.getElementById('events-body');
        if (events && changes.events.replace) events.innerHTML = changes.events.html;
        else if (events) events.insertAdjacentHTML('beforeend', changes.events.html);
        if (changes.io) replace(document.getElementById('io'), changes.io);
        live.setAttribute('data-after', changes.after);
        live.setAttribute('data-status', changes.status);
        if (changes.refreshMs) live.setAttribute('data-refresh-ms', changes.refreshMs);
        else live.removeAttribute('data-refresh-ms');
        document.title = changes.title;
        centreCurrentState();
      })
      .catch(failed)
      .then(schedule);
  }

  function fetchFailed(element, error) {
    var note = document.createElement('p');
    note.className = 'refresh-failed';
    note.textContent = 'Could not fetch it (' + error.message + ').';
    element.appendChild(note);
  }

  /** A details element with data-src gets its content the first time it is opened. */
  function loadDetails(event) {
    var details = event.target;
    if (!details.open || !details.hasAttribute('data-src') || details.hasAttribute('data-loaded')) return;
    details.setAttribute('data-loaded', '');
    text(details.getAttribute('data-src'))
      .then(function (markup) { details.insertAdjacentHTML('beforeend', markup); })
      .catch(function (error) { details.removeAttribute('data-loaded'); fetchFailed(details, error); });
  }

  /** Older rows replace their link's row; a folded loop's steps go under it, and fold again on a second click. */
  function fetchRows(link) {
    var row = link.closest('tr');
    var mode = link.getAttribute('data-rows');
    if (mode === 'fold') {
      Array.prototype.forEach.call(row.parentNode.querySelectorAll('tr[data-fold="' + row.getAttribute('data-key') + '"]'), function (unfolded) { unfolded.remove(); });
      link.textContent = link.getAttribute('data-unfold-text');
      link.setAttribute('data-rows', 'after');
      return;
    }
    text(link.getAttribute('href'))
      .then(function (markup) {
        row.insertAdjacentHTML('afterend', markup);
        if (mode === 'replace') { row.remove(); return; }
        link.setAttribute('data-unfold-text', link.textContent);
        link.textContent = 'Fold its steps';
        link.setAttribute('data-rows', 'fold');
      })
      .catch(function (error) { fetchFailed(link.parentNode, error); });
  }

  function showState(node) {
    var live = document.getElementById('live');
    var panel = document.getElementById('state-io');
    if (!live || !panel) return;
    Array.prototype.forEach.call(document.querySelectorAll('svg.graph .chosen'), function (chosen) { chosen.classList.remove('chosen'); });
    node.classList.add('chosen');
    text(live.getAttribute('data-states') + encodeURIComponent(node.getAttribute('data-state')))
      .then(function (markup) { panel.innerHTML = markup; panel.setAttribute('data-state', node.getAttribute('data-state')); })
      .catch(function (error) { panel.textContent = ''; fetchFailed(panel, error); });
  }

  function openTarget() {
    var target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
    if (target && target.tagName === 'DETAILS') target.open = true;
  }

  window.addEventListener('hashchange', openTarget);
  document.addEventListener('toggle', loadDetails, true);
  document.addEventListener('click', function (event) {
    var link = event.target.closest('a[data-rows]');
    if (link) { event.preventDefault(); fetchRows(link); return; }
    var node = event.target.closest('svg.graph g.node[data-state]');
    if (node) showState(node);
  });
  document.addEventListener('keydown', function (event) {
    var node = event.target.closest && event.target.closest('svg.graph g.node[data-state]');
    if (node && (event.key === 'Enter' || event.key === ' ')) { event.preventDefault(); showState(node); }
  });
  document.addEventListener('DOMContentLoaded', function () {
    openTarget();
    Array.prototype.forEach.call(document.querySelectorAll('form.filters select'), function (select) {
      select.addEventListener('change', function () { select.form.submit(); });
    });
    watchGraph();
    centreCurrentState();
    schedule();
  });
})();
`;
