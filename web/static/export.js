// The export page's progress bar: the job's status every half second until it ends.
(function () {
  var job = document.getElementById("job");
  if (!job) return;
  var names = { queued: "排队中", running: "正在生成", done: "已完成", failed: "失败" };
  function poll() {
    fetch(job.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok || r.redirected) throw new Error("signed out");
        return r.json();
      })
      .then(function (j) {
        document.getElementById("progress").value = j.progress.done;
        document.getElementById("done").textContent = j.progress.done;
        document.getElementById("state").textContent = names[j.status] + (j.error ? "：" + j.error : "");
        if (j.status === "done") document.getElementById("download").hidden = false;
        if (j.status !== "done" && j.status !== "failed") setTimeout(poll, 500);
      })
      .catch(function (error) {
        if (error.message === "signed out") {
          document.getElementById("state").textContent = "登录已失效，请重新登录后查看。";
          return;
        }
        setTimeout(poll, 2000);
      });
  }
  poll();
})();
