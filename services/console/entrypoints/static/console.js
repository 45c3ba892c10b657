// The console's only script: the material's live character count, autosave of the draft and the
// evidence upload's progress bar. Every page works without it (the forms post normally).
(function () {
  "use strict";
  // intake's rule: NFC, whitespace and invisible format characters (Cf) do not count
  function countChars(text) {
    var visible = (text || "").normalize("NFC").replace(/\s+/gu, "").replace(/\p{Cf}/gu, "");
    return Array.from(visible).length;
  }
  function updateCount() {
    var out = document.getElementById("char-count");
    if (!out) return;
    var total = 0;
    document.querySelectorAll("textarea[data-counted]").forEach(function (t) { total += countChars(t.value); });
    out.textContent = String(total);
    out.classList.toggle("over", total > Number(out.dataset.max || 2000));
  }
  var form = document.getElementById("draft-form");
  if (form) {
    var timer = null;
    var status = document.getElementById("autosave-status");
    var save = function () {
      var body = new URLSearchParams(new FormData(form));
      fetch(form.action, { method: "POST", body: body, credentials: "same-origin",
                           headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
        .then(function (res) {
          status.textContent = res[0] ? "已自动保存" : ("未能保存：" + (res[1].message_zh || ""));
        })
        .catch(function () { status.textContent = "网络异常，稍后将重试保存"; });
    };
    form.addEventListener("input", function () {
      updateCount();
      status.textContent = "正在编辑…";
      clearTimeout(timer);
      timer = setTimeout(save, 1500);
    });
    updateCount();
  }
  var upload = document.getElementById("upload-form");
  if (upload) {
    upload.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var file = document.getElementById("f-file").files[0];
      var state = document.getElementById("upload-status");
      var bar = document.getElementById("upload-progress");
      if (!file) { state.textContent = "请选择文件"; return; }
      var kind = document.getElementById("f-kind").value;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", upload.action + "?kind=" + encodeURIComponent(kind) + "&filename=" + encodeURIComponent(file.name));
      xhr.setRequestHeader("X-CSRF-Token", upload.dataset.csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
      xhr.onload = function () {
        var answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status === 201) {
          bar.value = 100;
          state.textContent = "已上传：" + file.name;
          var counter = document.getElementById(kind + "-count");
          if (counter) counter.textContent = String(Number(counter.textContent) + 1);
        } else {
          state.textContent = "上传失败：" + (answer.message_zh || xhr.status);
        }
      };
      xhr.onerror = function () { state.textContent = "上传失败：网络异常"; };
      xhr.send(file);
    });
  }
})();
