// Runs infra/apps_script/Code.gs in a Node `vm` context with stand-ins for the Apps Script services
// it uses, each as Google documents it (developers.google.com/apps-script/reference):
//   FormApp.getActiveForm() -> Form {getId()}; the installable trigger's e.response -> FormResponse
//     {getId(), getTimestamp(): Date, getRespondentEmail(), getItemResponses() -> ItemResponse
//     {getItem() -> Item {getId(): Integer, getTitle()}, getResponse(): String | String[] | String[][]}}
//   Utilities.newBlob(string).getBytes(): the UTF-8 bytes as Java bytes (-128..127);
//   Utilities.computeHmacSha256Signature(value, key): Byte[] (signed, -128..127), for Byte[] or String
//     arguments (strings as UTF-8, or in the Charset given); Utilities.sleep(ms);
//   UrlFetchApp.fetch(url, params) -> HTTPResponse {getResponseCode(), getContentText()}; with
//     muteHttpExceptions an HTTP error is returned, a network failure throws;
//   PropertiesService.getScriptProperties().getProperty(key) -> String | null;
//   ScriptApp.getProjectTriggers() / deleteTrigger(t) / newTrigger(fn).forForm(form).onFormSubmit().create().
// Input (stdin, JSON): {call, properties, form: {id}, response: {id, timestamp, email, items: [{id, title,
//   response}]}, answers: [{status, text} | {throws}], triggers: [handler names]}.
// Output (stdout, JSON): {fetches: [{url, params, payload_b64}], sleeps, deleted, created, logs, error}.
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const crypto = require("crypto");

const input = JSON.parse(fs.readFileSync(0, "utf8"));
const out = { fetches: [], sleeps: [], deleted: [], created: [], logs: [], error: null };
const signed = (buf) => Array.from(buf, (b) => (b > 127 ? b - 256 : b));
const unsigned = (bytes) => Buffer.from(bytes.map((b) => b & 0xff));
const toBuffer = (v, charset) => (typeof v === "string" ? Buffer.from(v, charset === "US_ASCII" ? "ascii" : "utf8") : unsigned(v));

const form = { getId: () => input.form.id, getTitle: () => "form" };
const responseOf = (r) => ({
  getId: () => r.id,
  getTimestamp: () => new Date(r.timestamp),
  getRespondentEmail: () => r.email || "",
  getItemResponses: () => r.items.map((it) => ({
    getItem: () => ({ getId: () => it.id, getTitle: () => it.title }),
    getResponse: () => it.response,
  })),
});
const answers = (input.answers || [{ status: 200, text: "{}" }]).slice();
const triggers = (input.triggers || []).map((h) => ({ getHandlerFunction: () => h }));

const sandbox = {
  FormApp: { getActiveForm: () => form },
  PropertiesService: {
    getScriptProperties: () => ({ getProperty: (k) => (k in (input.properties || {}) ? input.properties[k] : null) }),
  },
  Utilities: {
    Charset: { UTF_8: "UTF_8", US_ASCII: "US_ASCII" },
    newBlob: (data) => ({ getBytes: () => signed(toBuffer(data)), getDataAsString: () => toBuffer(data).toString("utf8") }),
    computeHmacSha256Signature: (value, key, charset) =>
      signed(crypto.createHmac("sha256", toBuffer(key, charset)).update(toBuffer(value, charset)).digest()),
    sleep: (ms) => { out.sleeps.push(ms); },
  },
  UrlFetchApp: {
    fetch: (url, params) => {
      const p = Object.assign({}, params);
      const payload = p.payload;
      delete p.payload;
      out.fetches.push({ url, params: p, payload_b64: typeof payload === "string" ? null : unsigned(payload).toString("base64"),
                         payload_text: typeof payload === "string" ? payload : null });
      const a = answers.length > 1 ? answers.shift() : answers[0];
      if (a.throws) throw new Error(a.throws);
      if (!p.muteHttpExceptions && a.status >= 400) throw new Error("Request failed, returned code " + a.status);
      return { getResponseCode: () => a.status, getContentText: () => a.text || "" };
    },
  },
  ScriptApp: {
    getProjectTriggers: () => triggers,
    deleteTrigger: (t) => { out.deleted.push(t.getHandlerFunction()); },
    newTrigger: (fn) => ({ forForm: (f) => ({ onFormSubmit: () => ({ create: () => { out.created.push({ fn, form: f.getId() }); } }) }) }),
  },
  Logger: { log: (m) => { out.logs.push(String(m)); } },
  console: { log: (m) => out.logs.push(String(m)), info: (m) => out.logs.push(String(m)),
             warn: (m) => out.logs.push("warn: " + m), error: (m) => out.logs.push("error: " + m) },
  Date, Math, JSON, String, Array, Error,
};
vm.createContext(sandbox);
const code = fs.readFileSync(path.join(__dirname, "..", "..", "infra", "apps_script", "Code.gs"), "utf8");
vm.runInContext(code, sandbox, { filename: "Code.gs" });
try {
  if (input.call === "setup") sandbox.setup();
  else sandbox.onFormSubmitted({ response: responseOf(input.response), source: form });
} catch (err) {
  out.error = String(err && err.message || err);
}
process.stdout.write(JSON.stringify(out));
