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

  window.bandsterDrawFigure = draw;
  window.bandsterDrawEmbeddedFigures = drawEmbedded;
}());
