// PCN live pages: follows GET /events and marks what changed since the page
// was drawn, and keeps "who else is editing" current. Progressive
// enhancement only: every page works the same without it.
(() => {
  "use strict";
  const since = document.body.dataset.eventsSince;
  if (!since || !window.EventSource) return;

  const bar = document.getElementById("live");
  const token = () => {
    const input = document.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  };

  // The notice under the header: a sentence and, when useful, a button.
  const notice = (kind, text, action) => {
    if (!bar) return;
    bar.className = "live-bar live-" + kind;
    bar.replaceChildren();
    const p = document.createElement("span");
    p.textContent = text;
    bar.append(p);
    if (action) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn-small";
      b.textContent = action.label;
      b.addEventListener("click", action.run);
      bar.append(" ", b);
    }
    bar.hidden = false;
  };
  const reload = { label: "Refresh", run: () => location.reload() };
  const list = (words) =>
    words.length < 2 ? words.join("") : words.slice(0, -1).join(", ") + " and " + words.at(-1);

  const statusAfter = { sold: ["sold", "Sold"], "sale voided": ["available", "Available"], archived: ["archived", "Archived"] };
  const setBadge = (root, action) => {
    const to = statusAfter[action];
    const badge = root && root.querySelector(".badge[class*='badge-status-']");
    if (!to || !badge) return;
    badge.className = "badge badge-status-" + to[0];
    badge.textContent = to[1];
  };

  // What one change means for this page.
  const listed = new Set();
  const onChange = (c) => {
    const newer = (el) => el && c.version > Number(el.dataset.version);
    const fields = c.labels && c.labels.length ? list(c.labels).toLowerCase() : "";

    // The inventory list: mark the rows, count what changed.
    if (document.querySelector('[data-live="list"]')) {
      const row = document.querySelector('tr[data-vehicle="' + c.vehicle_id + '"]');
      if (newer(row)) {
        row.classList.add("live-changed");
        row.title = "Changed by " + c.by + (fields ? ": " + fields : "");
        setBadge(row, c.action);
      }
      // Counted when it changed what this list shows, or is new since the
      // page was drawn (replays start a little earlier, see /events).
      const added = !row && c.action === "created" && Date.parse(c.at) > Date.parse(since);
      if (newer(row) || added) listed.add(c.vehicle_id);
      if (listed.size) {
        const n = listed.size;
        notice("info", n + (n === 1 ? " vehicle" : " vehicles") + " changed since you opened this list.", reload);
      }
    }

    // A vehicle's page.
    const head = document.querySelector('[data-live="vehicle"][data-vehicle="' + c.vehicle_id + '"]');
    if (newer(head)) {
      setBadge(head, c.action);
      const what =
        c.action === "sold" ? "sold this vehicle" :
        c.action === "sale voided" ? "voided this vehicle's sale" :
        c.action === "archived" ? "archived this vehicle" :
        "changed " + (fields || "this vehicle");
      notice("warn", c.by + " " + what + " just now.", reload);
    }

    // The edit form: warn before saving; the merge still decides on save.
    const form = document.querySelector('form[data-live="edit"][data-vehicle="' + c.vehicle_id + '"]');
    if (newer(form)) {
      for (const name of c.fields || []) {
        const field = form.querySelector('[name="' + name + '"]');
        const wrap = field && field.closest(".field");
        if (wrap) wrap.classList.add("live-changed-field");
      }
      const what =
        c.action === "sold" ? "sold this vehicle" :
        c.action === "archived" ? "archived this vehicle" :
        "saved " + (fields || "this vehicle");
      notice("warn", c.by + " " + what + " while you were editing. Your changes are combined with theirs when you save; " +
        "if you both changed the same field, you will be asked which to keep.");
    }

    // A sale's page.
    const sale = document.querySelector('[data-live="sale"][data-sale="' + c.sale_id + '"]');
    if (sale && c.kind === "sale" && c.action === "sale voided") {
      notice("warn", c.by + " voided this sale just now.", reload);
    }
  };

  // Who else is editing this vehicle.
  const box = document.querySelector("[data-presence]");
  let expiry = [];
  const showEditors = (editors) => {
    if (!box) return;
    expiry.forEach(clearTimeout);
    expiry = [];
    const names = box.querySelector(".presence-names");
    names.replaceChildren();
    editors.forEach((e, i) => {
      if (i) names.append(", ");
      const s = document.createElement("strong");
      s.textContent = e.name;
      names.append(s);
      // Gone unless their page says otherwise in time.
      expiry.push(setTimeout(() => showEditors(editors.filter((x) => x !== e)), e.expires_in * 1000));
    });
    box.hidden = editors.length === 0;
  };
  const presenceUrl = box && "/vehicles/" + box.dataset.presence + "/presence";
  const askPresence = () => {
    if (!box) return;
    const beat = box.dataset.beat;
    const request = beat
      ? fetch(presenceUrl, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ csrf_token: token() }),
        })
      : fetch(presenceUrl);
    request.then((r) => (r.ok ? r.json() : null)).then((a) => a && showEditors(a.editors)).catch(() => {});
  };
  if (box && box.dataset.beat) {
    askPresence();
    setInterval(askPresence, 20000);
    // Saving leaves on the server's side (and a refused save comes back to
    // this form): no goodbye then, or it could land after the next beat.
    let submitting = false;
    const form = document.querySelector('form[data-live="edit"]');
    if (form) form.addEventListener("submit", () => { submitting = true; });
    addEventListener("pagehide", () => {
      if (!submitting) {
        navigator.sendBeacon(presenceUrl, new URLSearchParams({ csrf_token: token(), leave: "1" }));
      }
    });
    // Back from the browser's back/forward cache: here again.
    addEventListener("pageshow", (e) => { if (e.persisted) askPresence(); });
  }

  // The stream. A page about one vehicle hears only of that vehicle (and
  // who edits it). It is closed while the tab is hidden (browsers allow a
  // few connections per server, and each open stream holds one) and opened
  // again, from the newest event seen, when the tab is shown; a stream the
  // browser gave up on (an error answer, not a dropped connection, which it
  // retries by itself) is tried again a little later.
  const about = document.querySelector("[data-live][data-vehicle]");
  const scope = about ? "&vehicle=" + about.dataset.vehicle : "";
  let from = since;
  let source = null;
  let ended = false;
  let stopped = false;
  let retry = null;
  const connect = () => {
    clearTimeout(retry);
    if (ended || source || document.hidden) return;
    const s = new EventSource("/events?since=" + encodeURIComponent(from) + scope);
    source = s;
    s.onopen = () => {
      if (stopped && bar) bar.hidden = true;
      stopped = false;
    };
    s.onmessage = (e) => {
      try {
        const c = JSON.parse(e.data);
        if (c.at && Date.parse(c.at) > Date.parse(from)) from = c.at;
        onChange(c);
      } catch (err) {
        // A message this script does not understand changes nothing.
      }
    };
    s.onerror = () => {
      if (s.readyState !== EventSource.CLOSED) return;
      source = null;
      stopped = true;
      notice("warn", "Live updates have stopped. Refresh to see the latest.", reload);
      retry = setTimeout(connect, 10000 + Math.random() * 20000);
    };
    s.addEventListener("presence", (e) => {
      const d = JSON.parse(e.data);
      if (box && String(d.vehicle_id) === box.dataset.presence) askPresence();
    });
    s.addEventListener("reload", () => notice("info", "A lot has changed since this page was opened.", reload));
    s.addEventListener("ended", (e) => {
      ended = true;
      s.close();
      const why = JSON.parse(e.data).reason;
      notice("warn", why === "role changed"
        ? "Your access has changed. Refresh to see what you can do now."
        : "You have been signed out. Sign in again to carry on.", reload);
    });
  };
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      if (source) source.close();
      source = null;
    } else {
      connect();
    }
  });
  connect();
})();
