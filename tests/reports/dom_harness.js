// Runs the HTML report's script against a tiny fake DOM under node, drives its controls and prints what it built.
// usage: node dom_harness.js report.html '{"statuses": ["FAIL","ERROR","PASS"], "muted": true, "expand": true,
//                                          "search": "text", "more": true, "view": "resource"}'
// Any use of innerHTML / outerHTML / insertAdjacentHTML / document.write throws, so the test fails on it.
"use strict";
const fs = require("fs");
const vm = require("vm");

const [, , pagePath, optionsJson] = process.argv;
const options = JSON.parse(optionsJson || "{}");
const page = fs.readFileSync(pagePath, "utf8");
const dataText = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(page)[1];
const appScript = /<script>([\s\S]*?)<\/script>/.exec(page)[1];

function forbidden(name) {
  return { get() { throw new Error(name + " read"); }, set() { throw new Error(name + " used"); } };
}

class FakeNode {
  constructor(tag) {
    this.tagName = tag.toUpperCase();
    this.childNodes = [];
    this.parentNode = null;
    this.listeners = {};
    this.attributes = {};
    this.dataset = {};
    this.className = "";
    this.hidden = false;
    this.open = false;
    this.value = "";
    this.checked = false;
    this.ownText = "";
  }
  get firstChild() { return this.childNodes[0] || null; }
  appendChild(child) { child.parentNode = this; this.childNodes.push(child); return child; }
  removeChild(child) { this.childNodes.splice(this.childNodes.indexOf(child), 1); child.parentNode = null; return child; }
  set textContent(v) { this.childNodes = []; this.ownText = String(v); }
  get textContent() { return this.ownText + this.childNodes.map((c) => c.textContent).join(""); }
  setAttribute(name, value) {
    if (/^on/i.test(name) || name === "href" || name === "src") throw new Error("setAttribute " + name);
    this.attributes[name] = String(value);
  }
  getAttribute(name) { return this.attributes[name]; }
  addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }
  fire(type) { (this.listeners[type] || []).forEach((fn) => fn({ type, target: this, preventDefault() {} })); }
  scrollIntoView() {}
}
for (const name of ["innerHTML", "outerHTML"]) Object.defineProperty(FakeNode.prototype, name, forbidden(name));
FakeNode.prototype.insertAdjacentHTML = () => { throw new Error("insertAdjacentHTML used"); };

class FakeText {
  constructor(text) { this.tagName = "#text"; this.textContent = String(text); this.childNodes = []; }
}

const byId = {};
const document = {
  getElementById(id) {
    if (id === "report-data") return { textContent: dataText };
    if (!byId[id]) { byId[id] = new FakeNode(id.startsWith("f-") ? "select" : "div"); byId[id].id = id; }
    return byId[id];
  },
  createElement: (tag) => new FakeNode(tag),
  createTextNode: (text) => new FakeText(text),
  querySelectorAll: () => [],
  write() { throw new Error("document.write used"); },
};

const timers = [];
const context = {
  document, URL, JSON, Object, Array, Math, String,
  setTimeout: (fn) => { timers.push(fn); return timers.length; },
  clearTimeout: () => {},
  eval() { throw new Error("eval used"); },
  Function() { throw new Error("Function used"); },
};
vm.runInNewContext(appScript, context);
const flush = () => { while (timers.length) timers.shift()(); };

function walk(node, fn) { fn(node); (node.childNodes || []).forEach((c) => walk(c, fn)); }
function findAll(root, pred) { const out = []; walk(root, (n) => { if (pred(n)) out.push(n); }); return out; }

if (options.view) findAll(byId["f-view"], (n) => n.textContent === "by " + options.view)[0].fire("click");
const chips = findAll(byId["f-status"], (n) => n.tagName === "BUTTON");
if (options.statuses) {
  for (const chip of chips) {
    const wanted = options.statuses.includes(chip.textContent);
    if ((chip.getAttribute("aria-pressed") === "true") !== wanted) chip.fire("click");
  }
}
if (options.muted) { byId["f-muted"].checked = true; byId["f-muted"].fire("change"); }
if (options.search !== undefined) { byId["f-search"].value = options.search; byId["f-search"].fire("input"); flush(); }

const groups = byId["groups"];
const initialRows = findAll(groups, (n) => / row /.test(" " + n.className + " ")).length;
const initialGroups = groups.childNodes.filter((n) => n.tagName === "DETAILS").length;
if (options.expand) byId["expand-all"].fire("click");
if (options.more) {
  for (let guard = 0; guard < 10000; guard++) {
    const more = [byId["more-groups"], ...findAll(groups, (n) => n.className === "more")].filter((b) => !b.hidden);
    if (!more.length) break;
    more.forEach((b) => b.fire("click"));
    if (options.expand) byId["expand-all"].fire("click");
  }
}

const links = findAll(groups, (n) => n.tagName === "A").map((a) => ({ href: a.href, text: a.textContent, rel: a.rel }));
const hrefs = findAll(groups, (n) => n.href !== undefined && n.tagName !== "A").map((n) => n.tagName);
process.stdout.write(JSON.stringify({
  status_line: byId["status-line"].textContent,
  initial_groups: initialGroups,
  initial_rows: initialRows,
  groups: groups.childNodes.filter((n) => n.tagName === "DETAILS").length,
  rows: findAll(groups, (n) => / row /.test(" " + n.className + " ")).length,
  links,
  other_hrefs: hrefs,
  text: groups.textContent,
}));
