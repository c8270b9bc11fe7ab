// As-you-type suggestions for the search box: titles from /search/suggest, by pinyin too.
(function () {
  var box = document.getElementById("q");
  var list = document.getElementById("suggestions");
  if (!box || !list) return;
  var timer = null;
  var asked = "";
  function hide() { list.hidden = true; list.innerHTML = ""; box.setAttribute("aria-expanded", "false"); }
  function show(items) {
    list.innerHTML = "";
    items.forEach(function (s) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      var a = document.createElement("a");
      a.href = "/course/" + encodeURIComponent(s.code);
      a.innerHTML = s.title_highlighted; // built by the server from escaped titles
      li.appendChild(a);
      list.appendChild(li);
    });
    list.hidden = items.length === 0;
    box.setAttribute("aria-expanded", items.length ? "true" : "false");
  }
  box.addEventListener("input", function () {
    clearTimeout(timer);
    var q = box.value.trim();
    if (!q) { hide(); return; }
    timer = setTimeout(function () {
      asked = q;
      fetch("/search/suggest?q=" + encodeURIComponent(q))
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (body) { if (asked === q) show(body.suggestions || []); })
        .catch(hide);
    }, 120);
  });
  box.addEventListener("keydown", function (e) { if (e.key === "Escape") hide(); });
})();
