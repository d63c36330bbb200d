/* bandster dashboard: polls /api/state (only the runs changed since the version it has) and redraws. */
(function () {
  'use strict';
  var INTERVAL = 2000, READING_INTERVAL = 5000, FIGURES_EVERY = 10000;  // every answer costs the first read time
  var current = { run: null, since: 0, version: -1, figuresVersion: -1, figuresAt: 0, table: null };

  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }
  function fetchJSON(url) {
    return fetch(url, { cache: 'no-store' }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { throw new Error(body.error || ('HTTP ' + r.status)); }
        return body;
      });
    });
  }
  function fmt(v) {
    if (v === null || v === undefined) { return ''; }
    if (typeof v === 'number') { return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))); }
    if (Array.isArray(v)) { return '(' + v.join(', ') + ')'; }
    return String(v);
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return ''; }
    if (seconds < 60) { return seconds.toFixed(1) + ' s'; }
    if (seconds < 3600) { return Math.floor(seconds / 60) + ' min ' + Math.round(seconds % 60) + ' s'; }
    return Math.floor(seconds / 3600) + ' h ' + Math.round((seconds % 3600) / 60) + ' min';
  }
  function table(header, rows) {
    var t = el('table'), head = el('tr');
    header.forEach(function (h) { head.appendChild(el('th', h)); });
    var thead = el('thead'); thead.appendChild(head); t.appendChild(thead);
    var body = el('tbody');
    rows.forEach(function (row) {
      var tr = el('tr');
      row.forEach(function (cell) { tr.appendChild(el('td', fmt(cell))); });
      body.appendChild(tr);
    });
    t.appendChild(body);
    return t;
  }
  function replace(id, node) { var box = $(id); box.textContent = ''; box.appendChild(node); }
  function query() { return current.run ? ('run=' + encodeURIComponent(current.run) + '&') : ''; }
  /* the runs table's request: the server sorts, filters and pages */
  function tableQuery(run, params) {
    var parts = ['run=' + encodeURIComponent(run), 'sort=' + encodeURIComponent(params.sort || ''),
      'desc=' + (params.desc ? '1' : '0'), 'page=' + params.page, 'size=' + params.size];
    Object.keys(params.filters).forEach(function (k) {
      parts.push('f.' + encodeURIComponent(k) + '=' + encodeURIComponent(params.filters[k]));
    });
    return parts.join('&');
  }

  function render(data) {
    if (data.run !== current.run) { return; }
    $('error').hidden = true;
    function reading() {  // the server is reading a large journal for the first time
      var share = data.journal_bytes ? Math.min(data.read_bytes / data.journal_bytes, 1) : 0;
      $('progress-text').textContent = 'Reading the journal (' + (data.journal_bytes / 1048576).toFixed(1) +
        ' MiB) for the first time: ' + (100 * share).toFixed(0) + ' %' +
        (data.runs ? ', ' + data.runs.total + ' runs so far, shown below\u2026' : '\u2026');
      $('state').textContent = 'reading';
      $('state').className = 'state';
      $('progress').firstChild.style.width = (100 * share).toFixed(1) + '%';
    }
    if (data.loading && !data.runs) { reading(); return; }
    $('title').textContent = 'bandster run ' + (data.run_id || data.run);
    $('state').textContent = data.state;
    $('state').className = 'state state-' + data.state;
    document.title = 'bandster: ' + (data.run_id || data.run) + ' (' + data.state + ')';
    var facts = $('facts');
    facts.textContent = '';
    data.facts.forEach(function (pair) { facts.appendChild(el('dt', pair[0])); facts.appendChild(el('dd', pair[1])); });
    var p = data.progress, done = p.finished;
    var fraction = p.planned ? Math.min(done / p.planned, 1) : (data.state === 'running' ? 0 : 1);
    $('progress').firstChild.style.width = (100 * fraction).toFixed(1) + '%';
    $('progress-text').textContent = done + ' runs finished, ' + p.running + ' running' +
      (p.planned ? ' of ' + p.planned + ' planned (' + (100 * fraction).toFixed(0) + ' %)' : '');
    var now = data.now;
    var reporting = data.running.some(function (j) { return j.step !== null && j.step !== undefined; });
    var header = ['worker', 'config_id', 'budget', 'for'].concat(reporting ? ['step', 'latest loss'] : [],
      ['configuration']);
    replace('running', data.running.length ? table(header,
      data.running.map(function (j) {
        var row = [j.worker, j.config_id, j.budget, duration(now - j.since)];
        if (reporting) {
          var reported = j.step !== null && j.step !== undefined;
          row.push(reported ? j.step : '', reported && j.loss !== null ? fmt(j.loss) : '');
        }
        return row.concat([Object.keys(j.config).map(function (k) { return k + '=' + fmt(j.config[k]); })
          .join(', ')]);
      })) : el('p', 'none', 'muted'));
    replace('workers', data.workers.length ? table(['worker', 'host', 'state', 'runs', 'failed', 'busy',
      'last activity'], data.workers.map(function (w) {
      return [w.name, w.host || '?', w.state, w.runs, w.failed, duration(w.busy),
        w.last_activity ? window.bandsterFormatTime(w.last_activity) : ''];
    })) : el('p', 'no worker seen yet', 'muted'));
    var stages = data.stages.length ? table(['iteration', 'stage', 'budget', 'configs', 'done', 'failed', 'running',
      'pending'], data.stages) : el('p', 'no stage has run yet', 'muted');
    replace('stages', stages);
    if (!current.table) {
      var run = data.run;
      current.table = new window.BandsterRunsTable($('runs-table'), {
        remote: function (params) { return fetchJSON('/api/table?' + tableQuery(run, params)); },
        csvUrl: function (params) { return '/api/table.csv?' + tableQuery(run, params); }
      });
    }
    current.table.update(data.runs).catch(showError);
    current.since = data.runs.version;
    $('updated').textContent = 'Last read ' + window.bandsterFormatTime(data.now) + '.';
    if (data.loading) { reading(); return; }  // the state of the part read so far; figures once all is read
    if (data.version !== current.figuresVersion && Date.now() - current.figuresAt >= FIGURES_EVERY) {
      loadFigures(data.run);
    }
  }

  function drawInto(box, figures, prefix) {
    figures.forEach(function (f) {
      var id = prefix + f.name, node = document.getElementById(id);
      if (!node) {
        var figure = el('figure');
        figure.setAttribute('data-figure', f.name);
        node = el('div', null, 'plot');
        node.id = id;
        figure.appendChild(node);
        figure.appendChild(el('figcaption', f.caption));
        box.appendChild(figure);
      }
      window.bandsterDrawWhenVisible(node, f.spec);
    });
  }

  function loadFigures(run) {
    current.figuresAt = Date.now();
    fetchJSON('/api/figures?' + query()).then(function (data) {
      if (data.run !== current.run) { return; }
      current.figuresVersion = data.version;
      drawInto($('figures'), data.figures, 'plot-');
    }).catch(showError);
  }

  function showError(err) {
    var box = $('error');
    box.hidden = false;
    box.textContent = 'Cannot update: ' + err.message + ' (trying again)';
  }

  function poll() {
    var run = current.run, later = INTERVAL;
    fetchJSON('/api/state?' + query() + 'since=' + (current.since || 0)).then(function (data) {
      if (data.loading) { later = READING_INTERVAL; }
      if (run === current.run) { render(data); }
    }).catch(showError).then(function () { setTimeout(poll, later); });
  }

  function choose(run) {
    current.run = run; current.since = 0; current.figuresVersion = -1; current.figuresAt = 0;
    current.table = null;
    $('figures').textContent = '';
  }

  function start() {
    fetchJSON('/api/runs').then(function (data) {
      var runs = data.runs.map(function (r) { return r.name; });
      choose(runs[runs.length - 1]);
      if (runs.length > 1) {
        var select = $('run-select');
        runs.forEach(function (name) { var o = el('option', name); o.value = name; select.appendChild(o); });
        select.value = current.run;
        select.addEventListener('change', function () { choose(select.value); });
        $('runs-nav').hidden = false;
        $('compare-section').hidden = false;
        var compare = function () {
          var later = 15000;
          fetchJSON('/api/compare').then(function (c) {
            if (c.loading) { later = 3000; }  // the journals are being read: again soon
            drawInto($('compare'), c.figures, 'compare-');
          }).catch(showError).then(function () { setTimeout(compare, later); });
        };
        compare();
      }
      poll();
    }).catch(function (err) { showError(err); setTimeout(start, INTERVAL); });
  }

  start();
}());
