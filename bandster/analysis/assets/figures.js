/* bandster: draw the plotly.js figures whose specs are embedded in the page (<script type="application/json">). */
(function () {
  'use strict';
  var CONFIG = { responsive: true, displaylogo: false, scrollZoom: false };

  function draw(node, spec) {
    if (typeof Plotly === 'undefined') {
      node.textContent = 'plotly.js is missing: the interactive figures cannot be drawn.';
      return;
    }
    Plotly.react(node, spec.data, spec.layout, CONFIG);
    node.setAttribute('data-drawn', '1');
  }

  function drawEmbedded() {
    var specs = document.querySelectorAll('script[type="application/json"][data-figure-spec]');
    for (var i = 0; i < specs.length; i++) {
      var target = document.getElementById(specs[i].getAttribute('data-figure-spec'));
      if (target) { draw(target, JSON.parse(specs[i].textContent)); }
    }
  }

  /* The dashboard's figures: drawn when they scroll into view, one per task, so that a page of many large
     figures keeps answering (its updates, the table) while it draws. */
  var queue = [], scheduled = false, observer = null;
  function drainOne() {
    scheduled = false;
    var node = queue.shift();
    if (node && node.bandsterSpec) {
      var spec = node.bandsterSpec;
      node.bandsterSpec = null;
      draw(node, spec);
    }
    if (queue.length) { scheduled = true; setTimeout(drainOne, 0); }
  }
  function enqueue(node) {
    if (queue.indexOf(node) < 0) { queue.push(node); }
    if (!scheduled) { scheduled = true; setTimeout(drainOne, 0); }
  }
  function drawWhenVisible(node, spec) {
    node.bandsterSpec = spec;
    if (typeof IntersectionObserver === 'undefined') { enqueue(node); return; }
    if (!observer) {
      observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          entry.target.bandsterVisible = entry.isIntersecting;
          if (entry.isIntersecting && entry.target.bandsterSpec) { enqueue(entry.target); }
        });
      }, { rootMargin: '200px' });
    }
    if (!node.bandsterObserved) { node.bandsterObserved = true; observer.observe(node); }
    else if (node.bandsterVisible) { enqueue(node); }
  }

  window.bandsterDrawFigure = draw;
  window.bandsterDrawWhenVisible = drawWhenVisible;
  window.bandsterDrawEmbeddedFigures = drawEmbedded;
}());
