/**
 * Alumni Autopilot: posts every Google Form submission to the form_webhook function, signed.
 *
 * Bound to the membership form (Extensions > Apps Script). Script properties (Project Settings >
 * Script properties):
 *   WEBHOOK_URL     the form_webhook URL, e.g. https://REGION-PROJECT.cloudfunctions.net/form_webhook
 *   WEBHOOK_SECRET  the same value as FORM_WEBHOOK_SECRET in Secret Manager (>= 16 characters)
 * Run setup() once: it installs the onFormSubmit trigger (and removes older copies of it).
 *
 * Contract (see README): POST application/json
 *   {formId, responseId, submittedAt (RFC 3339), respondentEmail|null, answers: [{questionId, title, answer}]}
 *   X-Autopilot-Timestamp: unix seconds
 *   X-Autopilot-Signature: lowercase hex HMAC-SHA256(secret, timestamp + "." + body)
 * The trigger is never re-run by Google when it fails; the poll_form_responses function is the
 * safety net, so a failure here loses nothing. The same responseId is always safe to resend.
 */

var MAX_ATTEMPTS = 5;          // 1 + 4 retries: ~1 + 2 + 4 + 8 s of sleep, well inside the 6 min limit
var FIRST_DELAY_MS = 1000;

function setup() {
  var form = FormApp.getActiveForm();
  var props = PropertiesService.getScriptProperties();
  if (!props.getProperty('WEBHOOK_URL') || !props.getProperty('WEBHOOK_SECRET')) {
    throw new Error('Set the script properties WEBHOOK_URL and WEBHOOK_SECRET first (Project Settings > Script properties).');
  }
  ScriptApp.getProjectTriggers().forEach(function (t) {
    if (t.getHandlerFunction() === 'onFormSubmitted') ScriptApp.deleteTrigger(t);
  });
  ScriptApp.newTrigger('onFormSubmitted').forForm(form).onFormSubmit().create();
  Logger.log('Trigger installed for form ' + form.getId());
}

/** Installed trigger: e.response is the FormResponse just submitted. */
function onFormSubmitted(e) {
  var payload = buildPayload_(FormApp.getActiveForm(), e.response);
  deliver_(JSON.stringify(payload));
}

function buildPayload_(form, response) {
  var answers = response.getItemResponses().map(function (ir) {
    var item = ir.getItem();
    var value = ir.getResponse();
    var answer;
    if (Array.isArray(value)) {
      // checkbox: [String]; grid: [[String]] -> flatten to strings
      answer = value.map(function (v) { return Array.isArray(v) ? v.join(', ') : String(v === null ? '' : v); });
    } else {
      answer = String(value === null || value === undefined ? '' : value);
    }
    return { questionId: String(item.getId()), title: item.getTitle(), answer: answer };
  });
  var email = response.getRespondentEmail();
  return {
    formId: form.getId(),
    responseId: response.getId(),
    submittedAt: response.getTimestamp().toISOString(),
    respondentEmail: email ? email : null,
    answers: answers
  };
}

function hex_(bytes) {
  return bytes.map(function (b) { var h = (b & 0xff).toString(16); return h.length === 1 ? '0' + h : h; }).join('');
}

function sign_(secret, timestamp, bodyBytes) {
  // HMAC over the very bytes that are sent: the timestamp, ".", then the body's UTF-8 bytes.
  var bytes = Utilities.computeHmacSha256Signature(
    Utilities.newBlob(timestamp + '.').getBytes().concat(bodyBytes),
    Utilities.newBlob(secret).getBytes());
  return hex_(bytes);
}

function deliver_(body) {
  var props = PropertiesService.getScriptProperties();
  var url = props.getProperty('WEBHOOK_URL');
  var secret = props.getProperty('WEBHOOK_SECRET');
  var delay = FIRST_DELAY_MS;
  // The body goes as UTF-8 bytes (a byte-array payload is sent as it is), so the signed bytes and
  // the received bytes are the same whatever UrlFetchApp's default charset for a string would be.
  var bodyBytes = Utilities.newBlob(body).getBytes();
  for (var attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    var timestamp = String(Math.floor(Date.now() / 1000));   // signed anew: a retry is never stale
    var code = 0;
    try {
      var res = UrlFetchApp.fetch(url, {
        method: 'post',
        contentType: 'application/json; charset=utf-8',
        payload: bodyBytes,
        headers: { 'X-Autopilot-Timestamp': timestamp, 'X-Autopilot-Signature': sign_(secret, timestamp, bodyBytes) },
        muteHttpExceptions: true,
        followRedirects: false
      });
      code = res.getResponseCode();
      if (code >= 200 && code < 300) return;
      // 4xx other than 408/429: the request itself is wrong; retrying will not help.
      if (code >= 400 && code < 500 && code !== 408 && code !== 429) {
        console.error('form_webhook refused the submission: HTTP ' + code + ' ' + res.getContentText().slice(0, 300));
        return;
      }
    } catch (err) {
      console.warn('form_webhook unreachable (attempt ' + attempt + '): ' + err);
    }
    if (attempt < MAX_ATTEMPTS) {
      Utilities.sleep(delay + Math.floor(Math.random() * 500));
      delay *= 2;
    }
  }
  console.error('form_webhook did not accept the submission after ' + MAX_ATTEMPTS + ' attempts; the poller will pick it up.');
}
