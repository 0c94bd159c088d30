// The review pages: one page application over window.REVIEW_DATA (data.js, written by
// facecluster/outputs/review.py). Views by the address's #: the index (#page=N), a person
// (#person=I&page=N) and the list to check (#check).
// Opened from disk, the corrections are gathered in `edits` (kept in localStorage, per run) and
// saved as a YAML file by the browser. Served by the review app (facecluster review: the address
// carries its token), each edit is sent at once; the app saves and applies it and answers with
// the new data, which the page shows.
"use strict";
(function () {
  let D = window.REVIEW_DATA;
  const TOKEN = new URLSearchParams(location.search).get("token");
  const SERVED = location.protocol.startsWith("http") && Boolean(TOKEN);
  const FACES_PER_PAGE = 60;
  const CARDS_PER_PAGE = 48;
  const FACES_PER_CARD = 6;
  const PREVIEWED_FACES = 8;
  const PREVIEWED_SPLITS = 5;
  const NOBODY = "nobody";
  const KINDS = ["rename", "merge", "move_out", "hide", "confirm", "apart"];
  const storeKey = "facecluster-review:" + D.experiment + ":" + D.run;
  const noticeKey = "facecluster-review-notice:" + D.experiment;
  const main = document.getElementById("main");
  let people = D.persons.filter((p) => p.kind === "person");
  let edits = SERVED ? fromFile() : loadEdits();
  let selected = new Set();

  // ---- the corrections -------------------------------------------------------------------
  function fromFile() {
    const c = D.corrections;
    return {
      rename: Object.assign({}, c.rename),
      merge: c.merge.map((m) => m.map(String)),
      move_out: c.move_out.map((m) => Object.assign({}, m)),
      hide: c.hide.slice(),
      confirm: (c.confirm || []).map((m) => Object.assign({}, m)),
      apart: (c.apart || []).map((m) => m.map(String)),
    };
  }

  function loadEdits() {
    try {
      const kept = localStorage.getItem(storeKey);
      if (kept) return Object.assign(fromFile(), JSON.parse(kept));
    } catch (e) {
      // No localStorage (a browser's setting for pages opened from disk): edits last as long as the page.
    }
    return fromFile();
  }

  // Served: the edits ([action, kind, entry], made together) go to the app, which answers with
  // the data after them (or why not).
  function send(...list) {
    const previous = D;
    const acted = document.activeElement && document.activeElement.id;
    const sent = list.map(([action, kind, entry]) => ({ action: action, kind: kind, entry: entry }));
    fetch("api/edit", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Facecluster-Token": TOKEN },
      body: JSON.stringify({ version: D.version, edits: sent }),
    })
      .then((response) =>
        response.ok ? response.json() : response.text().then((text) => ({ refused: response.status, text: text }))
      )
      .then((answer) => {
        if (answer.refused === 409) return reloadChanged();
        if (answer.refused) return say(answer.text);
        const shown = route().person;
        D = answer.data;
        people = D.persons.filter((p) => p.kind === "person");
        edits = fromFile();
        selected = new Set();
        if (shown !== null) follow(shown, previous);
        renderEdits();
        render();
        say(answer.message);
        // Keyboard focus stays where the person acted (the view is drawn anew).
        const again = acted && document.getElementById(acted);
        if (again) again.focus({ preventScroll: true });
      })
      .catch((error) => say("The review app did not answer (is it still running?): " + error));
  }

  // After an edit, the person page shown stays with its person: by name, else (renamed, merged)
  // the person now holding most of its faces, else (hidden) the index. Persons are addressed by
  // their place in the list, which an edit changes.
  function follow(index, before) {
    const was = before.persons[index];
    if (!was) return;
    let now = D.persons.findIndex((p) => p.name === was.name);
    if (now < 0) {
      const held = new Map();
      was.faces
        .filter((id) => D.faces[id])
        .forEach((id) => held.set(D.faces[id][2], (held.get(D.faces[id][2]) || 0) + 1));
      now = held.size ? Array.from(held).sort((a, b) => b[1] - a[1])[0][0] : -1;
    }
    if (now === index) return;
    const page = route().page;
    history.replaceState(null, "", now < 0 ? "#" : "#person=" + now + (page > 1 ? "&page=" + page : ""));
  }

  // Another tab (or the workflow) changed the review since this page was drawn: the edit is not
  // made; the page reloads to show what is now, and says why.
  function reloadChanged() {
    try {
      const why = "This review was changed in another tab or window: the page now shows it. Make your edit again.";
      sessionStorage.setItem(noticeKey, why);
    } catch (e) {
      // No sessionStorage: reloaded without a word.
    }
    location.reload();
  }

  // Opened from disk: the edit is kept here until the corrections file is saved.
  function changed(message) {
    try {
      localStorage.setItem(storeKey, JSON.stringify(edits));
    } catch (e) {
      // Kept in memory only.
    }
    renderEdits();
    render();
    say(message);
  }

  function say(message) {
    const note = document.getElementById("save-note");
    note.textContent = message || "";
    note.hidden = !message;
  }

  // A message with one button that does what it offers.
  function offer(message, label, action) {
    const note = document.getElementById("save-note");
    const button = el("button", { type: "button", class: "offer", onclick: () => action() }, label);
    note.replaceChildren(message + " ", button);
    note.hidden = false;
    button.focus();
  }

  function faceKey(photo, face) {
    return photo + "\u0000" + face;
  }

  // The person each face shown holds now, by photo and face.
  function currentPersons() {
    const now = new Map();
    Object.values(D.faces).forEach(([photo, face, , , person]) => now.set(faceKey(photo, face), person));
    return now;
  }

  // Whether the run (or the app) has applied a correction already: its results show it.
  function applied(kind, entry) {
    const names = new Set(D.persons.map((p) => p.name).concat(D.hidden));
    if (kind === "rename") return !names.has(entry[0]) || entry[0] === entry[1];
    if (kind === "merge") return entry.slice(1).every((name) => !names.has(name));
    if (kind === "hide") return D.hidden.indexOf(entry) >= 0;
    if (kind === "confirm") return !D.near.some((n) => faceKey(D.faces[n.face][0], D.faces[n.face][1]) === faceKey(entry.photo, entry.face));
    if (kind === "apart") return !D.other_ages.some((s) => samePair(s, entry));
    const now = currentPersons().get(faceKey(entry.photo, entry.face));
    return now !== entry.person && (!entry.to || now === entry.to || (entry.to === NOBODY && now !== undefined));
  }

  // The moves not applied yet, by face.
  function movedFaces() {
    const moved = new Map();
    edits.move_out.filter((m) => !applied("move_out", m)).forEach((m) => moved.set(faceKey(m.photo, m.face), m));
    return moved;
  }

  function pending(name) {
    const notes = [];
    if (edits.rename[name] && !applied("rename", [name, edits.rename[name]])) notes.push("renamed " + edits.rename[name]);
    const merge = edits.merge.find((m) => m.indexOf(name) > 0 && !applied("merge", m));
    if (merge) notes.push("merged into " + merge[0]);
    if (edits.hide.indexOf(name) >= 0 && !applied("hide", name)) notes.push("hidden");
    return notes.join(", ");
  }

  // The rules of facecluster.naming.names (D.name_rules): the app checks the same again.
  function nameProblem(name) {
    const r = D.name_rules;
    if (!name) return "a name cannot be empty";
    const size = new TextEncoder().encode(name).length;
    if (size > r.max_bytes) return "a name is at most " + r.max_bytes + " bytes of UTF-8 (a folder name); this one has " + size;
    const bad = Array.from(name).filter((c) => r.forbidden.indexOf(c) >= 0 || c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127);
    if (bad.length) return "a name cannot hold " + Array.from(new Set(bad)).join(" ") + " (it becomes a folder name)";
    if (name === "." || name === "..") return "\u201c" + name + "\u201d cannot be a folder name";
    if (r.no_leading.indexOf(name[0]) >= 0) return "a name cannot start with \u201c" + name[0] + "\u201d (a hidden folder)";
    if (r.no_trailing.indexOf(name[name.length - 1]) >= 0) return "a name cannot end with a space or \u201c.\u201d (Windows drops them)";
    if (r.devices.indexOf(name.split(".")[0].toUpperCase()) >= 0) return "\u201c" + name.split(".")[0] + "\u201d is a device name on Windows";
    if (r.reserved.indexOf(name.toLowerCase()) >= 0) return "\u201c" + name + "\u201d is a name the tool uses itself";
    if (new RegExp("^(?:" + r.numbered + ")$").test(name)) return "\u201c" + name + "\u201d is of the form of the tool's numbers; merge into that person instead";
    return "";
  }

  function rename(person, name) {
    name = name.trim();
    const problem = nameProblem(name);
    if (problem) return say("\u201c" + name + "\u201d cannot be a name: " + problem + ".");
    // Two persons under one name are one person (a face tag's name, or a name given before): the
    // user says so by merging them, never by a rename the naming would refuse.
    if (name !== person && D.persons.some((p) => p.name === name)) {
      return offer(
        "\u201c" + name + "\u201d is another person's name. If they are one person:",
        "Merge " + person + " into " + name,
        () => merge(name, person)
      );
    }
    if (SERVED) return send(["add", "rename", [person, name]]);
    edits.rename[person] = name;
    changed(person + " will be called " + name + ".");
  }

  function merge(keep, other) {
    if (SERVED) return send(["add", "merge", [keep, other]]);
    edits.merge = edits.merge.filter((m) => !(m[0] === keep && m[1] === other));
    edits.merge.push([keep, other]);
    changed(other + " will be merged into " + keep + ".");
  }

  // Two persons suggested as one at other ages are two people: not suggested again.
  function keepApart(first, second) {
    if (SERVED) return send(["add", "apart", [first, second]]);
    const same = (m) => (m[0] === first && m[1] === second) || (m[0] === second && m[1] === first);
    if (!edits.apart.some(same)) edits.apart.push([first, second]);
    changed(first + " and " + second + " will be kept apart.");
  }

  // Whether a suggestion (indices into D.persons) names the pair of names given, in either order.
  function samePair(suggestion, names) {
    const pair = [D.persons[suggestion.person], D.persons[suggestion.other]].map((p) => p && p.name);
    return (pair[0] === names[0] && pair[1] === names[1]) || (pair[0] === names[1] && pair[1] === names[0]);
  }

  function toggleHide(name) {
    const at = edits.hide.indexOf(name);
    if (SERVED) return send([at >= 0 ? "undo" : "add", "hide", name]);
    if (at >= 0) edits.hide.splice(at, 1);
    else edits.hide.push(name);
    changed(at >= 0 ? name + " will be shown again." : name + " will be hidden.");
  }

  function faceEntry(id, to) {
    const [photo, face, , , person] = D.faces[id];
    // The person assignments.tsv gives the face: `others` for a face set aside, until moved.
    const entry = { photo: photo, face: face, person: person };
    if (to) entry.to = to;
    return entry;
  }

  function moveOut(ids, to) {
    if (SERVED) return send(...ids.map((id) => ["add", "move_out", faceEntry(id, to)]));
    ids.forEach((id) => {
      const entry = faceEntry(id, to);
      edits.move_out = edits.move_out.filter((m) => faceKey(m.photo, m.face) !== faceKey(entry.photo, entry.face));
      edits.move_out.push(entry);
    });
    selected = new Set();
    const where = to === NOBODY ? "the others" : to || "the nearest other person";
    changed(ids.length + (ids.length === 1 ? " face" : " faces") + " will move to " + where + ".");
  }

  function confirmFace(id) {
    const [photo, face, , , person] = D.faces[id];
    const entry = { photo: photo, face: face, person: person };
    if (SERVED) return send(["add", "confirm", entry]);
    edits.confirm = edits.confirm.filter((m) => faceKey(m.photo, m.face) !== faceKey(photo, face));
    edits.confirm.push(entry);
    changed("Face " + face + " of " + fileName(photo) + " stays with " + person + ".");
  }

  function describe(kind, entry) {
    if (kind === "rename") return "Rename " + entry[0] + " to " + entry[1];
    if (kind === "merge") return "Merge " + entry.slice(1).join(", ") + " into " + entry[0];
    if (kind === "hide") return "Hide " + entry;
    if (kind === "apart") return entry[0] + " and " + entry[1] + " are two people";
    const file = entry.photo.split("/").pop();
    if (kind === "confirm") return "Face " + entry.face + " of " + file + " is " + entry.person;
    const to = entry.to === NOBODY ? ", to the others" : entry.to ? ", to " + entry.to : "";
    if (entry.person === "others") return "Face " + entry.face + " of " + file + " from the others" + to;
    return "Face " + entry.face + " of " + file + " is not " + entry.person + to;
  }

  function entries() {
    const list = [];
    Object.entries(edits.rename).forEach((e) => list.push(["rename", e]));
    edits.merge.forEach((e) => list.push(["merge", e]));
    edits.move_out.forEach((e) => list.push(["move_out", e]));
    edits.hide.forEach((e) => list.push(["hide", e]));
    edits.confirm.forEach((e) => list.push(["confirm", e]));
    edits.apart.forEach((e) => list.push(["apart", e]));
    return list;
  }

  function inFile(kind, entry) {
    const c = D.corrections;
    if (kind === "rename") return c.rename[entry[0]] === entry[1];
    const same = (other) => JSON.stringify(other) === JSON.stringify(entry);
    return (c[kind] || []).some(same);
  }

  function remove(kind, entry) {
    if (SERVED) return send(["undo", kind, entry]);
    if (kind === "rename") delete edits.rename[entry[0]];
    else edits[kind] = edits[kind].filter((e) => JSON.stringify(e) !== JSON.stringify(entry));
    changed("Removed: " + describe(kind, entry) + ".");
  }

  function yaml() {
    const q = (s) => JSON.stringify(String(s));
    const where = D.corrections_path || "a file the experiment's corrections: names";
    const lines = [
      "# Corrections from the review pages of experiment " + D.experiment + ".",
      "# Put this file at " + where + ", then run the workflow again.",
    ];
    const renames = Object.entries(edits.rename);
    if (renames.length) lines.push("rename:", ...renames.map(([a, b]) => "  " + q(a) + ": " + q(b)));
    if (edits.merge.length) lines.push("merge:", ...edits.merge.map((m) => "  - [" + m.map(q).join(", ") + "]"));
    if (edits.move_out.length) {
      lines.push("move_out:");
      edits.move_out.forEach((m) => {
        const to = m.to ? ", to: " + q(m.to) : "";
        lines.push("  - {photo: " + q(m.photo) + ", face: " + Number(m.face) + ", person: " + q(m.person) + to + "}");
      });
    }
    if (edits.hide.length) lines.push("hide:", ...edits.hide.map((n) => "  - " + q(n)));
    if (edits.confirm.length) {
      lines.push("confirm:");
      edits.confirm.forEach((m) => {
        lines.push("  - {photo: " + q(m.photo) + ", face: " + Number(m.face) + ", person: " + q(m.person) + "}");
      });
    }
    if (edits.apart.length) lines.push("apart:", ...edits.apart.map((m) => "  - [" + m.map(q).join(", ") + "]"));
    return lines.join("\n") + "\n";
  }

  function save() {
    const url = URL.createObjectURL(new Blob([yaml()], { type: "application/x-yaml" }));
    const link = el("a", { href: url, download: "corrections.yaml" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    const where = D.corrections_path
      ? "Move it to " + D.corrections_path + " (the file every run of this experiment reads, replacing the one there)"
      : "Save it next to config.yaml and add corrections: corrections.yaml to experiment " + D.experiment;
    say(
      "Saved corrections.yaml to your downloads folder (your browser may have added a number to its name). " +
        where +
        ", then run the workflow again: these pages will show the result."
    );
  }

  // ---- the views -------------------------------------------------------------------------
  // A button of the lists to check: its label shown (and as its tooltip), what it does, and what a
  // screen reader says of it (which face or person it acts on).
  function button(id, label, action, spoken) {
    return el("button", { type: "button", id: id, onclick: action, "aria-label": spoken, title: label }, label);
  }

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([key, value]) => {
      if (value === null || value === undefined || value === false) return;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    children.flat().forEach((child) => {
      if (child !== null && child !== undefined) node.append(child);
    });
    return node;
  }

  function route() {
    const params = new URLSearchParams(location.hash.slice(1));
    return {
      person: params.has("person") ? Number(params.get("person")) : null,
      check: params.has("check"),
      page: Math.max(1, Number(params.get("page")) || 1),
    };
  }

  // A photo's path inside the photo folder (shown on hover).
  function relative(photo) {
    return D.folder && photo.startsWith(D.folder + "/") ? photo.slice(D.folder.length + 1) : photo;
  }

  function fileName(photo) {
    return photo.split(/[\\/]/).pop();
  }

  // A face's caption, as much as a tile's width holds (11 characters): its photo's file name, without
  // the extension when long, then its end, where cameras and LFW put the number; "#n" for a photo's
  // second face on (the whole path is the tile's title).
  function faceCaption(photo, face) {
    const suffix = face ? " #" + face : "";
    const room = 11 - suffix.length;
    let name = fileName(photo);
    if (name.length > room) name = name.replace(/\.[^.]*$/, "");
    if (name.length > room) name = "\u2026" + name.slice(-(room - 1));
    return name + suffix;
  }

  // A photo's date as a tile shows it: the day ("2021-06-03"), or as much as was written ("1987-05").
  function dayOf(date) {
    return date.slice(0, 10);
  }

  function thumb(id) {
    const [photo, face, , , , key] = D.faces[id];
    return el("img", {
      src: "faces/" + key + ".jpg",
      width: D.thumb_px,
      height: D.thumb_px,
      loading: "lazy",
      decoding: "async",
      alt: "face " + face + " of " + fileName(photo),
    });
  }

  // A face of another person, to compare with (its alt names the person).
  function small(id) {
    const image = thumb(id);
    image.className = "small";
    image.alt = D.persons[D.faces[id][2]].name + ", " + image.alt;
    return image;
  }

  function counts(person) {
    const faces = person.faces.length;
    return person.photos + (person.photos === 1 ? " photo, " : " photos, ") + faces + (faces === 1 ? " face" : " faces");
  }

  function personLink(index, text) {
    return el("a", { href: "#person=" + index, title: D.persons[index].name }, text || D.persons[index].name);
  }

  function pager(page, pages, base, label) {
    if (pages <= 1) return null;
    const link = (to, text, rel) =>
      to < 1 || to > pages
        ? el("span", { class: "disabled", "aria-disabled": "true" }, text)
        : el("a", { href: base + "page=" + to, rel: rel }, text);
    return el(
      "nav",
      { class: "pager", "aria-label": label },
      link(page - 1, "\u2190 Previous", "prev"),
      el("span", {}, "Page " + page + " of " + pages),
      link(page + 1, "Next \u2192", "next")
    );
  }

  function card(index) {
    const person = D.persons[index];
    const note = pending(person.name);
    return el(
      "li",
      { class: "card" + (note ? " pending" : "") },
      el("h3", {}, personLink(index)),
      el("p", { class: "counts" }, counts(person)),
      note ? el("p", { class: "badge" }, note) : null,
      el("div", { class: "thumbs" }, person.faces.slice(0, FACES_PER_CARD).map(thumb))
    );
  }

  function renderIndex(page) {
    const cards = people.map((p) => D.persons.indexOf(p));
    const pages = Math.max(1, Math.ceil(cards.length / CARDS_PER_PAGE));
    page = Math.min(page, pages);
    const faces = people.reduce((n, p) => n + p.faces.length, 0);
    const rest = D.persons.filter((p) => p.kind !== "person" && p.faces.length);
    return [
      el("h1", { tabindex: "-1" }, people.length + (people.length === 1 ? " person, " : " people, ") + faces + " faces"),
      renderChecks(true),
      el("h2", { id: "people-title" }, "People"),
      pager(page, pages, "#", "People pages"),
      el(
        "ul",
        { class: "cards", "aria-labelledby": "people-title" },
        cards.slice((page - 1) * CARDS_PER_PAGE, page * CARDS_PER_PAGE).map(card)
      ),
      pager(page, pages, "#", "People pages, bottom"),
      rest.length ? el("h2", { id: "rest-title" }, "Not sorted into a person") : null,
      rest.length
        ? el("ul", { class: "cards", "aria-labelledby": "rest-title" }, rest.map((p) => card(D.persons.indexOf(p))))
        : null,
      renderHidden(),
    ];
  }

  function renderHidden() {
    const names = D.hidden.concat(edits.hide.filter((n) => D.hidden.indexOf(n) < 0));
    if (!names.length) return null;
    return [
      el("h2", { id: "hidden-title" }, "Hidden people"),
      el(
        "ul",
        { class: "plain", "aria-labelledby": "hidden-title" },
        names.map((name) =>
          el(
            "li",
            {},
            name + (edits.hide.indexOf(name) >= 0 ? "" : " (shown again on the next run) "),
            edits.hide.indexOf(name) >= 0
              ? el(
                  "button",
                  { type: "button", title: "Show " + name + " again", onclick: () => toggleHide(name) },
                  "Show " + name + " again"
                )
              : null
          )
        )
      ),
    ];
  }

  function renderChecks(preview) {
    const tags = D.tags || [];
    const otherAges = D.other_ages || [];
    if (!D.near.length && !D.split.length && !tags.length && !otherAges.length) return null;
    const near = preview ? D.near.slice(0, PREVIEWED_FACES) : D.near;
    const split = preview ? D.split.slice(0, PREVIEWED_SPLITS) : D.split;
    const moved = movedFaces();
    const confirmed = new Set(edits.confirm.map((m) => faceKey(m.photo, m.face)));
    const parts = [el("h2", {}, "Check these first")];
    if (tags.length) {
      // The names read from the photos and sidecars that disagree (the tags win: fix them there).
      parts.push(
        el("h3", {}, "Face tags that disagree"),
        el(
          "ul",
          { class: "plain tags" },
          tags.map((t) => {
            const links = t.persons.flatMap((p, i) => (i ? [", ", personLink(p)] : [personLink(p)]));
            return el("li", {}, t.text, links.length ? " \u2014 " : "", links);
          })
        )
      );
    }
    if (otherAges.length) parts.push(...renderOtherAges(preview ? otherAges.slice(0, PREVIEWED_SPLITS) : otherAges));
    if (split.length) {
      parts.push(
        el("h3", {}, "People whose faces fall into two groups"),
        el(
          "p",
          { class: "hint" },
          "The two groups lie farther apart than the faces within them (how many times, in brackets)."
        ),
        el(
          "ul",
          { class: "plain split" },
          split.map((s) => el("li", {}, personLink(s.person), " (" + (s.between / s.within).toFixed(2) + "\u00d7)"))
        )
      );
    }
    if (near.length) {
      parts.push(
        el("h3", {}, "Faces almost as near another person as their own"),
        el(
          "p",
          { class: "hint" },
          "In brackets: the face's distance to its own person over that to the other; over 1, it is nearer the other."
        ),
        el(
          "ul",
          { class: "near" },
          near.map((n) => {
            const [photo, face] = D.faces[n.face];
            const own = D.persons[n.person].name;
            const other = D.persons[n.other].name;
            const done = moved.get(faceKey(photo, face));
            return el(
              "li",
              { class: "near-face" + (done ? " moved" : "") },
              thumb(n.face),
              el(
                "div",
                {},
                el("p", {}, personLink(n.person), ", nearly ", personLink(n.other), " (" + n.ratio.toFixed(2) + ")"),
                el("p", { class: "compare" }, D.persons[n.other].faces.slice(0, 3).map(small)),
                done
                  ? el("p", { class: "badge" }, "moving to " + (done.to || "the nearest other person"))
                  : el(
                      "p",
                      { class: "near-actions" },
                      button(
                        "move-near-" + n.face,
                        "Move to " + other,
                        () => moveOut([n.face], other),
                        "Move face " + face + " of " + fileName(photo) + " from " + own + " to " + other
                      ),
                      confirmed.has(faceKey(photo, face))
                        ? el("span", { class: "badge" }, "kept with " + own)
                        : button(
                            "confirm-" + n.face,
                            "It is " + own,
                            () => confirmFace(n.face),
                            "Face " + face + " of " + fileName(photo) + " is " + own
                          )
                    )
              )
            );
          })
        )
      );
    }
    if (preview && (D.near.length > near.length || D.split.length > split.length || otherAges.length > PREVIEWED_SPLITS)) {
      const all = D.near.length + " faces and " + (D.split.length + otherAges.length) + " people to check";
      parts.push(el("p", {}, el("a", { href: "#check" }, "All " + all)));
    }
    return el("section", { class: "checks", "aria-label": "Check these first" }, parts);
  }

  // Persons likely one person at other ages (a child the sorting split over the years): the last
  // faces of the earlier beside the first of the later, to merge or keep apart in one click.
  function renderOtherAges(pairs) {
    const apart = edits.apart;
    return [
      el("h3", {}, "Perhaps one person at other ages"),
      el("p", { class: "hint" }, "The photos' dates say when each was taken; the most likely first."),
      el(
        "ul",
        { class: "near other-ages" },
        pairs.map((s) => {
          // s.person is the earlier: its last faces beside the later's first (s.faces), their years.
          const names = [D.persons[s.person].name, D.persons[s.other].name];
          // The merge keeps the first name: a name given, rather than a number.
          const numbered = new RegExp("^(?:" + D.name_rules.numbered + ")$");
          const [keep, into] = numbered.test(names[0]) && !numbered.test(names[1]) ? [names[1], names[0]] : names;
          const kept = apart.some((m) => samePair(s, m));
          const merging = edits.merge.some((m) => m.indexOf(names[0]) >= 0 && m.indexOf(names[1]) >= 0);
          const years = (span) => " (" + (span[0] === span[1] ? span[0] : span[0] + "\u2013" + span[1]) + ")";
          return el(
            "li",
            { class: "near-face" },
            el(
              "div",
              {},
              el("p", {}, personLink(s.person), years(s.years[0]), " and later ", personLink(s.other), years(s.years[1])),
              el("p", { class: "compare" }, s.faces[0].map(small), " \u2192 ", s.faces[1].map(small)),
              kept || merging
                ? el("p", { class: "badge" }, kept ? "kept apart" : "merging")
                : el(
                    "p",
                    { class: "near-actions" },
                    button(
                      "merge-ages-" + s.person + "-" + s.other,
                      "One person: merge",
                      () => merge(keep, into),
                      "Merge " + into + " into " + keep + ": one person"
                    ),
                    button(
                      "apart-ages-" + s.person + "-" + s.other,
                      "Two people",
                      () => keepApart(names[0], names[1]),
                      names[0] + " and " + names[1] + " are two people"
                    )
                  )
            )
          );
        })
      ),
    ];
  }

  function personActions(index) {
    const person = D.persons[index];
    const others = people.filter((p) => p !== person);
    const hidden = edits.hide.indexOf(person.name) >= 0;
    const renameInput = el("input", {
      id: "rename",
      type: "text",
      value: edits.rename[person.name] || "",
      autocomplete: "off",
      spellcheck: "false",
    });
    const mergeSelect = el(
      "select",
      { id: "merge-into" },
      el("option", { value: "" }, "choose a person"),
      others.map((p) => el("option", { value: p.name }, p.name + " (" + p.faces.length + ")"))
    );
    return el(
      "div",
      { class: "actions" },
      el(
        "form",
        {
          class: "action",
          onsubmit: (event) => {
            event.preventDefault();
            rename(person.name, renameInput.value);
          },
        },
        el("label", { for: "rename" }, "Rename to"),
        renameInput,
        el("button", { type: "submit" }, "Rename")
      ),
      el(
        "form",
        {
          class: "action",
          onsubmit: (event) => {
            event.preventDefault();
            if (!mergeSelect.value) return say("Choose the person to merge " + person.name + " into.");
            merge(mergeSelect.value, person.name);
          },
        },
        el("label", { for: "merge-into" }, "Merge into"),
        mergeSelect,
        el("button", { type: "submit" }, "Merge")
      ),
      el(
        "div",
        { class: "action" },
        el(
          "button",
          { type: "button", id: "hide", onclick: () => toggleHide(person.name) },
          hidden ? "Show this person again" : "Hide this person"
        )
      )
    );
  }

  function faceTools(index) {
    const person = D.persons[index];
    const targets = people.filter((p) => p !== person);
    const moveSelect = el(
      "select",
      { id: "move-to" },
      el("option", { value: "" }, "choose a person"),
      targets.map((p) => el("option", { value: p.name }, p.name + " (" + p.faces.length + ")")),
      person.kind === "person" ? el("option", { value: NOBODY }, "nobody (the others)") : null
    );
    const chosen = () => {
      if (!selected.size) {
        say("Select faces first (their check boxes).");
        return null;
      }
      return Array.from(selected);
    };
    return el(
      "form",
      {
        class: "tools",
        "aria-label": "Selected faces",
        onsubmit: (event) => {
          event.preventDefault();
          const ids = chosen();
          if (!ids) return;
          if (!moveSelect.value) return say("Choose where the selected faces go.");
          moveOut(ids, moveSelect.value);
        },
      },
      el("span", { id: "selected-count", role: "status" }, selected.size + " selected"),
      el("button", { type: "button", onclick: () => selectPage(true) }, "Select this page"),
      el("button", { type: "button", onclick: () => selectPage(false) }, "Clear"),
      el("label", { for: "move-to" }, "Move selected to"),
      moveSelect,
      el("button", { type: "submit" }, "Move"),
      person.kind === "person"
        ? el(
            "button",
            {
              type: "button",
              id: "not-this-person",
              title: "Not " + person.name,
              onclick: () => {
                const ids = chosen();
                if (ids) moveOut(ids, null);
              },
            },
            "Not " + person.name
          )
        : null
    );
  }

  function selectPage(on) {
    main.querySelectorAll(".tile input").forEach((box) => {
      const id = Number(box.id.slice("face-".length));
      box.checked = on;
      if (on) selected.add(id);
      else selected.delete(id);
    });
    document.getElementById("selected-count").textContent = selected.size + " selected";
  }

  function tile(id, moved) {
    const [photo, face, , reason, , , date, dateSource] = D.faces[id];
    const done = moved.get(faceKey(photo, face));
    const box = el("input", {
      type: "checkbox",
      id: "face-" + id,
      checked: selected.has(id),
      onchange: (event) => {
        if (event.target.checked) selected.add(id);
        else selected.delete(id);
        document.getElementById("selected-count").textContent = selected.size + " selected";
      },
    });
    const caption = done ? "\u2192 " + (done.to === NOBODY ? "the others" : done.to || "someone else") : reason || "";
    return el(
      "li",
      { class: "tile" + (done ? " moved" : "") },
      el(
        "label",
        { for: "face-" + id, title: relative(photo) + (date ? "\ntaken " + date + " (" + dateSource + ")" : "\nno date") },
        box,
        thumb(id),
        el("span", { class: "file" }, faceCaption(photo, face)),
        date ? el("time", { class: "date", datetime: date }, dayOf(date)) : null,
        caption ? el("span", { class: "badge" }, caption) : null
      )
    );
  }

  function renderPerson(index, page) {
    const person = D.persons[index];
    if (!person) return [el("h1", { tabindex: "-1" }, "No such person"), el("a", { href: "#" }, "All people")];
    const pages = Math.max(1, Math.ceil(person.faces.length / FACES_PER_PAGE));
    page = Math.min(page, pages);
    const first = (page - 1) * FACES_PER_PAGE;
    const shown = person.faces.slice(first, first + FACES_PER_PAGE);
    const moved = movedFaces();
    const items = [];
    shown.forEach((id, i) => {
      if (person.split_at && first + i === 0) items.push(el("li", { class: "group" }, "Group 1: " + person.split_at + " faces"));
      if (person.split_at && first + i === person.split_at) {
        items.push(el("li", { class: "group" }, "Group 2: " + (person.faces.length - person.split_at) + " faces"));
      }
      items.push(tile(id, moved));
    });
    const note = pending(person.name);
    const base = "#person=" + index + "&";
    return [
      el("p", {}, el("a", { href: "#" }, "\u2190 All people")),
      el("h1", { tabindex: "-1" }, person.name),
      el("p", { class: "counts" }, counts(person)),
      note ? el("p", { class: "badge" }, "On the next run: " + note) : null,
      person.split_at
        ? el("p", { class: "hint" }, "These faces fall into two groups: check whether they are two people.")
        : null,
      person.kind === "person" ? personActions(index) : null,
      faceTools(index),
      pager(page, pages, base, "Face pages"),
      el("ul", { class: "faces", "aria-label": "Faces of " + person.name }, items),
      pager(page, pages, base, "Face pages, bottom"),
    ];
  }

  function renderEdits() {
    const list = entries();
    document.getElementById("edit-count").textContent = String(list.length);
    document.getElementById("edit-list").replaceChildren(
      ...[...list.map(([kind, entry], i) =>
        el(
          "li",
          {},
          describe(kind, entry) + status(kind, entry),
          " ",
          el(
            "button",
            {
              type: "button",
              class: "small",
              id: "undo-" + i,
              onclick: () => remove(kind, entry),
              "aria-label": (SERVED ? "Undo: " : "Remove: ") + describe(kind, entry),
            },
            SERVED ? "Undo" : "Remove"
          )
        )
      ),
      SERVED
        ? null
        : el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: "small",
            onclick: () => {
              edits = fromFile();
              changed("Back to the corrections file as it is.");
            },
          },
          "Discard the changes made here"
        )
      )
    ].filter(Boolean));
  }

  // Served, every correction listed is saved and applied; from disk, those the last run applied
  // are done, the others wait for the corrections file and the next run.
  function status(kind, entry) {
    if (applied(kind, entry)) return " (done)";
    if (SERVED) return "";
    return inFile(kind, entry) ? " (in the file, not applied yet)" : " (not saved yet)";
  }

  function render() {
    const at = route();
    const scroll = window.scrollY;
    let view;
    if (at.person !== null) view = renderPerson(at.person, at.page);
    else if (at.check) view = [el("p", {}, el("a", { href: "#" }, "\u2190 All people")), renderChecks(false)];
    else view = renderIndex(at.page);
    main.replaceChildren(...[view].flat(2).filter(Boolean));
    window.scrollTo(0, scroll);
  }

  function navigated() {
    selected = new Set();
    say("");
    render();
    window.scrollTo(0, 0);
    const heading = main.querySelector("h1, h2");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
  }

  document.getElementById("experiment").textContent = "experiment " + D.experiment;
  document.title = D.experiment + ": facecluster review";
  document.getElementById("save").addEventListener("click", save);
  document.getElementById("save").hidden = SERVED;
  document.getElementById(SERVED ? "hint-disk" : "hint-served").hidden = true;
  document.getElementById("corrections-where").textContent = D.corrections_path
    ? "This experiment reads its corrections from " + D.corrections_path + "."
    : "This experiment has no corrections file yet (corrections: in config.yaml).";
  const problems = [];
  if (D.corrections_problem) problems.push(D.corrections_problem);
  D.not_honoured.forEach((c) => problems.push(c.correction + ": " + c.reason));
  if (problems.length) {
    const box = document.getElementById("problems");
    box.textContent = "The last run could not honour: " + problems.join("; ");
    box.hidden = false;
  }
  window.addEventListener("hashchange", navigated);
  renderEdits();
  render();
  try {
    say(sessionStorage.getItem(noticeKey));
    sessionStorage.removeItem(noticeKey);
  } catch (e) {
    // No sessionStorage: no notice kept over a reload.
  }
})();
