// The version page's frame filter: groups of ROI rules, a frame rule and a source rule (a group's rules are
// ANDed, groups ORed), kept in the URL as the `filters` parameter the frames API takes (docs/queries.md).
// Lucene inputs suggest the dataset's fields from its schema.
(() => {
  const form = document.getElementById("frame-filter");
  if (!form) return;
  const holder = document.getElementById("filter-groups");
  const hidden = document.getElementById("filters-json");
  const fields = JSON.parse(document.getElementById("schema-fields-data").textContent).map((f) => f.path);
  const suggestions = document.getElementById("field-suggestions");

  const element = (tag, attributes = {}, children = []) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
  };
  const input = (name, value, attributes) =>
    element("input", { "data-field": name, value: value ?? "", ...attributes });
  const bound = (value) => (value === null || value === undefined || value === -1 ? "" : String(value));

  function roiRule(rule = {}) {
    const [countMin, countMax] = rule.count_range || [];
    const [confMin, confMax] = rule.conf_range || [];
    const mustNot = input("must_not", "", { type: "checkbox", "aria-label": "must not" });
    mustNot.checked = Boolean(rule.must_not);
    return element("div", { class: "roi-rule", "data-testid": "roi-rule" }, [
      input("label", rule.label, { class: "lucene", list: "field-suggestions", placeholder: "label (Lucene): car",
                                   "aria-label": "ROI label rule" }),
      input("count_min", bound(countMin), { type: "number", min: "0", placeholder: "min #", "aria-label": "count min" }),
      input("count_max", bound(countMax), { type: "number", min: "0", placeholder: "max #", "aria-label": "count max" }),
      input("conf_min", bound(confMin), { type: "number", min: "0", max: "1", step: "0.01", placeholder: "conf ≥",
                                          "aria-label": "confidence min" }),
      input("conf_max", bound(confMax), { type: "number", min: "0", max: "1", step: "0.01", placeholder: "conf ≤",
                                          "aria-label": "confidence max" }),
      element("label", {}, [mustNot, " must not"]),
      element("button", { type: "button", "data-action": "remove-rule", text: "×", "aria-label": "remove rule" }),
    ]);
  }

  function group(data = {}) {
    const rules = element("div", { class: "roi-rules" }, (data.label_rules || []).map(roiRule));
    return element("fieldset", { class: "filter-group", "data-testid": "filter-group" }, [
      element("legend", { text: "Frames where" }),
      rules,
      element("button", { type: "button", "data-action": "add-rule", text: "+ ROI rule" }),
      element("label", { class: "rule" }, ["Frame rule ", input("frame_query", data.frame_query, {
        class: "lucene", list: "field-suggestions", placeholder: "meta.weather:clear", "aria-label": "frame rule" })]),
      element("label", { class: "rule" }, ["Source rule ", input("sources_query", data.sources_query, {
        class: "lucene", list: "field-suggestions", placeholder: "sources.width:>1000", "aria-label": "source rule" })]),
      element("button", { type: "button", "data-action": "remove-group", text: "remove filter" }),
    ]);
  }

  const initial = JSON.parse(document.getElementById("filter-groups-data").textContent);
  holder.append(...initial.map(group));

  const number = (node) => (node.value === "" ? -1 : Number(node.value));
  function collect() {
    const groups = [];
    for (const fieldset of holder.querySelectorAll(".filter-group")) {
      const value = (name) => fieldset.querySelector(`:scope > label [data-field=${name}]`).value.trim();
      const rules = [];
      for (const row of fieldset.querySelectorAll(".roi-rule")) {
        const get = (name) => row.querySelector(`[data-field=${name}]`);
        const rule = {};
        if (get("label").value.trim()) rule.label = get("label").value.trim();
        if (get("count_min").value !== "" || get("count_max").value !== "")
          rule.count_range = [number(get("count_min")), number(get("count_max"))];
        if (get("conf_min").value !== "" || get("conf_max").value !== "")
          rule.conf_range = [number(get("conf_min")), number(get("conf_max"))];
        if (get("must_not").checked) rule.must_not = true;
        rules.push(rule);
      }
      const entry = {};
      if (rules.length) entry.label_rules = rules;
      if (value("frame_query")) entry.frame_query = value("frame_query");
      if (value("sources_query")) entry.sources_query = value("sources_query");
      if (Object.keys(entry).length) groups.push(entry);
    }
    return groups;
  }

  form.addEventListener("click", (event) => {
    const action = event.target.dataset.action;
    if (action === "add-group") holder.append(group());
    else if (action === "add-rule") event.target.previousElementSibling.append(roiRule());
    else if (action === "remove-rule") event.target.closest(".roi-rule").remove();
    else if (action === "remove-group") event.target.closest(".filter-group").remove();
  });

  document.getElementById("raw-toggle").addEventListener("change", (event) => {
    document.getElementById("raw-query").hidden = !event.target.checked;
  });

  form.addEventListener("submit", () => {
    const groups = collect();
    hidden.value = groups.length ? JSON.stringify(groups) : "";
    // Empty fields stay out of the URL.
    for (const node of form.querySelectorAll("input[name], select[name]")) {
      if (node.value === "" || (node.name === "order_by" && node.value === "context_id")) node.disabled = true;
    }
  });

  // Suggest schema fields for the word being typed in a Lucene input.
  form.addEventListener("input", (event) => {
    const node = event.target;
    if (!node.classList.contains("lucene")) return;
    const before = node.value.slice(0, node.selectionStart ?? node.value.length);
    const word = before.match(/[\w.]*$/)[0];
    suggestions.replaceChildren();
    if (!word) return;
    const head = node.value.slice(0, before.length - word.length);
    for (const path of fields.filter((f) => f.startsWith(word) && f !== word).slice(0, 20)) {
      suggestions.append(element("option", { value: `${head}${path.replace(".*", ".")}:` }));
    }
  });
})();
