/* Margin embed loader: tiny, short-lived cache; loads the content-hashed widget once per page. */
(function (d, w) {
  var s = d.currentScript;
  if (!s) return;
  (w.MarginQueue = w.MarginQueue || []).push(s);
  if (w.Margin && w.Margin.scan) { w.Margin.scan(); return; }
  if (w.MarginLoading) return;
  w.MarginLoading = 1;
  var e = d.createElement('script');
  e.src = s.src.replace(/embed\.js([?#].*)?$/, 'static/__MARGIN_JS__');
  e.async = true;
  (d.head || d.documentElement).appendChild(e);
})(document, window);
