// A secret shown once (web/templates/admin_client.html): a button copies it, and the
// address becomes the client's page, so that a reload shows that page without it.
(function () {
  var section = document.querySelector("[data-secret-page]");
  if (!section) return;
  if (window.history && history.replaceState) {
    history.replaceState(null, "", section.getAttribute("data-secret-page"));
  }
  var button = document.getElementById("copy-secret");
  var said = document.getElementById("copy-said");
  var source = document.getElementById(button.getAttribute("data-copy"));
  function tell(copied) {
    said.textContent = copied ? "已复制到剪贴板。" : "未能复制：请选中密钥后手动复制。";
  }
  function bySelection() {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    tell(copied);
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    var text = source.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { tell(true); }, bySelection);
    } else {
      bySelection();
    }
  });
})();
