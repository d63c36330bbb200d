/* bandster: the runs table (sortable, filterable, paged, CSV download). No dependencies; data only ever
   reaches the page through textContent, never as HTML.
   Two modes: the report's table holds every row and sorts and filters them in the page; with options.remote
   (the dashboard's) the server sorts, filters and pages: remote(params) returns a promise of one page
   ({columns, kinds, version, total, matched, page, rows}), and update({version, total}) fetches the page
   again only when the version changed. */
(function () {
  'use strict';

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  function formatTime(epoch) {
    if (epoch === null || epoch === undefined || epoch === '') { return ''; }
    var d = new Date(epoch * 1000);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) +
      ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  function formatCell(value, kind) {
    if (value === null || value === undefined) { return ''; }
    if (kind === 'time' && typeof value === 'number') { return formatTime(value); }
    if (Array.isArray(value)) { return '(' + value.join(', ') + ')'; }
    if (typeof value === 'number') {
      return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
    }
    return String(value);
  }

  /* a filter: "text" (contains, any case), ">0.5", "<=3", "=ok", "!failed" */
  function makeFilter(text, kind) {
    text = text.trim();
    if (!text) { return null; }
    var m = /^(<=|>=|<|>|=|!)\s*(.*)$/.exec(text);
    if (m) {
      var op = m[1], operand = m[2], num = Number(operand);
      var numeric = operand !== '' && !isNaN(num);
      return function (value, shown) {
        if (op === '!') { return shown.toLowerCase().indexOf(operand.toLowerCase()) < 0; }
        if (op === '=') { return numeric && typeof value === 'number' ? value === num : shown === operand; }
        if (!numeric || typeof value !== 'number') { return false; }
        if (op === '<') { return value < num; }
        if (op === '>') { return value > num; }
        if (op === '<=') { return value <= num; }
        return value >= num;
      };
    }
    var needle = text.toLowerCase();
    return function (value, shown) { return shown.toLowerCase().indexOf(needle) >= 0; };
  }

  function compare(a, b) {
    var an = a === null || a === undefined, bn = b === null || b === undefined;
    if (an || bn) { return an === bn ? 0 : (an ? 1 : -1); }  // empty cells last
    if (Array.isArray(a) && Array.isArray(b)) {
      for (var i = 0; i < Math.min(a.length, b.length); i++) {
        if (a[i] !== b[i]) { return a[i] < b[i] ? -1 : 1; }
      }
      return a.length - b.length;
    }
    if (typeof a === 'number' && typeof b === 'number') { return a - b; }
    a = String(a); b = String(b);
    return a < b ? -1 : (a > b ? 1 : 0);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); }); }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function RunsTable(root, options) {
    this.root = root;
    this.columns = [];
    this.kinds = [];
    this.rows = [];
    this.version = 0;
    this.sortColumn = (options && options.sortColumn) || 'loss';
    this.sortDescending = false;
    this.filters = {};
    this.page = 0;
    this.pageSize = (options && options.pageSize) || 50;
    this.remote = (options && options.remote) || null;
    this.csvUrl = (options && options.csvUrl) || null;
    this.total = 0;
    this.matched = 0;
    this.requests = 0;
    this.build();
  }

  RunsTable.prototype.build = function () {
    var self = this;
    this.root.textContent = '';
    var bar = el('div', { 'class': 'table-bar' });
    this.info = el('span', { 'class': 'table-info' });
    this.prev = el('button', { type: 'button' }, '\u2039 previous');
    this.next = el('button', { type: 'button' }, 'next \u203a');
    this.csv = el('button', { type: 'button' }, 'download CSV');
    this.prev.addEventListener('click', function () { self.page = Math.max(self.page - 1, 0); self.changed(); });
    this.next.addEventListener('click', function () { self.page += 1; self.changed(); });
    this.csv.addEventListener('click', function () { self.download(); });
    bar.appendChild(this.prev); bar.appendChild(this.next); bar.appendChild(this.info); bar.appendChild(this.csv);
    this.root.appendChild(bar);
    var scroll = el('div', { 'class': 'table-scroll' });
    this.table = el('table', { 'class': 'runs' });
    this.thead = el('thead');
    this.tbody = el('tbody');
    this.table.appendChild(this.thead); this.table.appendChild(this.tbody);
    scroll.appendChild(this.table);
    this.root.appendChild(scroll);
    this.root.appendChild(el('p', { 'class': 'muted' }, 'Click a column\u2019s name to sort by it. Filters: text ' +
      '(contains), >0.5, <=3, =ok, !failed.'));
  };

  RunsTable.prototype.header = function () {
    var self = this;
    this.thead.textContent = '';
    var names = el('tr'), filters = el('tr', { 'class': 'filters' });
    this.columns.forEach(function (name, i) {
      var arrow = name === self.sortColumn ? (self.sortDescending ? ' \u25bc' : ' \u25b2') : '';
      var th = el('th', { 'data-column': name, title: 'sort by ' + name }, name + arrow);
      th.addEventListener('click', function () {
        if (self.sortColumn === name) { self.sortDescending = !self.sortDescending; }
        else { self.sortColumn = name; self.sortDescending = false; }
        self.page = 0;
        self.changed();
      });
      names.appendChild(th);
      var input = el('input', { type: 'search', placeholder: 'filter', 'data-column': name, size: '6' });
      input.value = self.filters[name] || '';
      input.addEventListener('input', function () {
        self.filters[name] = input.value;
        self.page = 0;
        if (!self.remote) { self.renderBody(); return; }
        clearTimeout(self.typing);  // the server filters: ask once the typing pauses
        self.typing = setTimeout(function () { self.fetchPage(); }, 250);
      });
      var td = el('th');
      td.appendChild(input);
      filters.appendChild(td);
    });
    this.thead.appendChild(names);
    this.thead.appendChild(filters);
    this.headerKey = this.columns.join('\u0000') + '|' + this.sortColumn + '|' + this.sortDescending;
  };

  /* after a sort, a filter or a page change: the page redraws, or asks the server */
  RunsTable.prototype.changed = function () {
    if (this.remote) { this.fetchPage(); } else { this.render(); }
  };

  RunsTable.prototype.params = function () {
    var self = this, filters = {};
    Object.keys(this.filters).forEach(function (k) { if (self.filters[k].trim()) { filters[k] = self.filters[k]; } });
    return { sort: this.sortColumn, desc: this.sortDescending, filters: filters, page: this.page,
      size: this.pageSize };
  };

  RunsTable.prototype.fetchPage = function () {
    var self = this, id = ++this.requests;
    return this.remote(this.params()).then(function (data) {
      if (id !== self.requests) { return; }  // a later request is on its way
      self.columns = data.columns;
      self.kinds = data.kinds;
      self.version = data.version;
      self.rows = data.rows;
      self.total = data.total;
      self.matched = data.matched;
      self.page = data.page;
      self.render();
    });
  };

  /* data: {columns, kinds, version, rows: [[index, row], ...]} (all rows, or those changed); in remote mode
     {version, total}: the page is fetched again when the version changed */
  RunsTable.prototype.update = function (data) {
    var self = this;
    if (this.remote) {
      if (data.version !== this.version || this.requests === 0) { return this.fetchPage(); }
      return Promise.resolve();
    }
    this.columns = data.columns;
    this.kinds = data.kinds;
    this.version = data.version;
    data.rows.forEach(function (pair) { self.rows[pair[0]] = pair[1]; });
    this.render();
  };

  RunsTable.prototype.visible = function () {
    var self = this, columns = this.columns, kinds = this.kinds;
    if (this.remote) { return this.rows; }  // the page the server sorted and filtered
    var active = [];
    columns.forEach(function (name, i) {
      var f = makeFilter(self.filters[name] || '', kinds[i]);
      if (f) { active.push([i, f]); }
    });
    var out = [];
    for (var r = 0; r < this.rows.length; r++) {
      var row = this.rows[r];
      if (!row) { continue; }
      var keep = true;
      for (var k = 0; k < active.length && keep; k++) {
        var i = active[k][0], value = row[i];
        keep = active[k][1](value, formatCell(value, kinds[i]));
      }
      if (keep) { out.push(row); }
    }
    var c = columns.indexOf(this.sortColumn), sign = this.sortDescending ? -1 : 1;
    if (c >= 0) {
      out.sort(function (a, b) {
        var x = a[c], y = b[c];
        var xn = x === null || x === undefined, yn = y === null || y === undefined;
        if (xn || yn) { return xn === yn ? 0 : (xn ? 1 : -1); }
        return sign * compare(x, y);
      });
    }
    return out;
  };

  RunsTable.prototype.render = function () {
    var key = this.columns.join('\u0000') + '|' + this.sortColumn + '|' + this.sortDescending;
    if (key !== this.headerKey) { this.header(); }
    this.renderBody();
  };

  RunsTable.prototype.renderBody = function () {
    var rows = this.visible(), kinds = this.kinds, n = this.columns.length;
    var matched = this.remote ? this.matched : rows.length;
    var pages = Math.max(Math.ceil(matched / this.pageSize), 1);
    this.page = Math.min(this.page, pages - 1);
    var start = this.page * this.pageSize;
    var shown = this.remote ? rows : rows.slice(start, start + this.pageSize);
    var body = document.createDocumentFragment();
    shown.forEach(function (row) {
      var tr = document.createElement('tr');
      for (var i = 0; i < n; i++) {
        var td = document.createElement('td');
        td.textContent = formatCell(row[i], kinds[i]);
        if (kinds[i] === 'number') { td.className = 'num'; }
        tr.appendChild(td);
      }
      if (row[3] === 'failed') { tr.className = 'failed'; }
      body.appendChild(tr);
    });
    this.tbody.textContent = '';
    this.tbody.appendChild(body);
    var total = this.remote ? this.total : this.rows.filter(function (r) { return r; }).length;
    this.info.textContent = matched ? ('runs ' + (start + 1) + '\u2013' + (start + shown.length) + ' of ' +
      matched + (matched !== total ? ' (filtered from ' + total + ')' : '')) : ('no run of ' + total +
      ' matches');
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= pages - 1;
    this.root.setAttribute('data-rows', String(total));
    this.root.setAttribute('data-visible', String(matched));
  };

  RunsTable.prototype.download = function () {
    var kinds = this.kinds;
    if (this.csvUrl) {  // every matching row, from the server
      var remote = el('a', { href: this.csvUrl(this.params()), download: 'runs.csv' });
      document.body.appendChild(remote);
      remote.click();
      remote.remove();
      return;
    }
    var quote = function (text) { return /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text; };
    var lines = [this.columns.map(quote).join(',')];
    this.visible().forEach(function (row) {
      lines.push(row.map(function (v, i) {
        return quote(kinds[i] === 'time' || typeof v !== 'number' ? formatCell(v, kinds[i]) : String(v));
      }).join(','));
    });
    var blob = new Blob([lines.join('\n') + '\n'], { type: 'text/csv' });
    var link = el('a', { href: URL.createObjectURL(blob), download: 'runs.csv' });
    document.body.appendChild(link);
    link.click();
    link.remove();
  };

  window.BandsterRunsTable = RunsTable;
  window.bandsterFormatTime = formatTime;
}());
