/**
 * The browser's half of the console's actions (localstack/console/actions.ts): served with the console's script
 * and stylesheet. The operator's API key is asked once per browser tab and kept in its session storage; it goes
 * to the console only in a header, which passes it on to the CalMS API. Everything shown is set as text.
 */

export const ACTIONS_STYLESHEET = `
section.actions h2 small { font-weight: normal; margin-left: 6px; }
.actions-row { display: flex; flex-wrap: wrap; gap: 8px 10px; align-items: center; margin: 6px 0; }
.actions-row input { font: inherit; padding: 5px 8px; border: 1px solid #8c8c94; border-radius: 6px; min-width: 320px; }
button.secondary { background: #fff; color: var(--blue); }
button.danger { background: var(--red); border-color: var(--red); }
button:disabled { opacity: 0.5; cursor: progress; }
.actions-confirm { border: 1px solid var(--red); background: var(--red-bg); border-radius: 6px; padding: 8px 12px; }
.actions-message { margin: 8px 0 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.actions-message.error { color: var(--red); font-weight: bold; }
.actions-message.done { color: var(--green); }
`;

export const ACTIONS_SCRIPT = `
(function () {
  'use strict';
  var KEY = 'calms-api-key';
  var panel, requestId;
  /** What the panel shows; drawn again whenever it changes. */
  var view = { request: null, allowed: null, confirming: false, busy: false, message: null, error: false, link: null };
  var seenStatus = null;

  function storedKey() { try { return sessionStorage.getItem(KEY) || ''; } catch (error) { return ''; } }
  function storeKey(key) { try { if (key) sessionStorage.setItem(KEY, key); else sessionStorage.removeItem(KEY); } catch (error) { /* no storage: ask again */ } }

  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    (children || []).forEach(function (child) { node.append(child); });
    return node;
  }
  function button(text, action, style) {
    var node = element('button', { type: 'button', 'data-action': action, class: style || '' }, [text]);
    node.disabled = view.busy;
    return node;
  }

  /** The API's own message: CalMS's { error: { message } }, API Gateway's { message }, or the text itself. */
  function messageOf(answer) {
    var body = answer.body;
    if (body && body.error && typeof body.error.message === 'string') return body.error.message;
    if (body && typeof body.message === 'string') return body.message;
    return answer.text || 'HTTP ' + answer.status;
  }

  function call(method, action) {
    var path = '/actions/' + encodeURIComponent(requestId) + action;
    var headers = {};
    headers['x-api-key'] = storedKey();
    return fetch(path, { method: method, cache: 'no-store', headers: headers }).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = JSON.parse(text); } catch (error) { /* not JSON: shown as text */ }
        return { ok: response.ok, status: response.status, body: body, text: text };
      });
    });
  }

  var DONE = {
    cancel: function (outcome) {
      if (outcome.alreadyStopped) return 'Cleaned up again: the request had already ended (' + outcome.status + '). The ARC contact ' + outcome.arcContactEmail.to + ': CANCELLED email ' + outcome.arcContactEmail.sent + '.';
      return 'Cancelled: the execution stopped' + (outcome.state ? ' in ' + outcome.state : '') + '.' +
        (outcome.stoppedJob ? ' Calibration job ' + outcome.stoppedJob.jobId + ' on ' + outcome.stoppedJob.node + ' stopped.' : '') +
        ' The ARC contact ' + outcome.arcContactEmail.to + ': CANCELLED email ' + outcome.arcContactEmail.sent + '.';
    },
    keep: function () { return 'Kept: the delivery stays beyond its expiry until it is released.'; },
    release: function (outcome) { return 'Released: the delivery ' + (outcome.expired ? 'has expired' : 'expires on ' + outcome.expiresAt) + ', as usual.'; },
    resend: function (outcome) { return 'The download email went again to ' + outcome.sentTo + ' (resent ' + outcome.resent + (outcome.resent === 1 ? ' time).' : ' times).'); },
    redrive: function (outcome) { return 'Re-driven: attempt ' + outcome.attempt + ' resumes at ' + outcome.resumeAt + ' (it had ended ' + outcome.failedStatus + ' in ' + outcome.failedState + '): '; },
  };
  var CALLS = { cancel: ['POST', '/cancel'], keep: ['POST', '/keep'], release: ['DELETE', '/keep'], resend: ['POST', '/resend'], redrive: ['POST', '/redrive'] };

  function act(action) {
    view.busy = true; view.confirming = false; view.message = null; view.link = null;
    draw();
    call(CALLS[action][0], CALLS[action][1])
      .then(function (answer) {
        if (answer.ok && answer.body) {
          view.message = DONE[action](answer.body); view.error = false;
          if (action === 'redrive') view.link = answer.body.executionName;
        } else {
          view.message = messageOf(answer); view.error = true;
        }
      })
      .catch(function (error) { view.message = 'The console did not answer: ' + error.message; view.error = true; })
      .then(function () { view.busy = false; return load(true); });
  }

  /** The request's status and what the API allows, with the key of this session. */
  function load(keepMessage) {
    if (!storedKey()) { view.request = null; view.allowed = null; draw(); return Promise.resolve(); }
    return call('GET', '')
      .then(function (answer) {
        if (answer.ok && answer.body && answer.body.allowed) {
          view.request = answer.body.request; view.allowed = answer.body.allowed;
          return;
        }
        view.request = null; view.allowed = null;
        // A key the API refuses is asked for again; the API's answer says why.
        if (answer.status === 401 || answer.status === 403) storeKey('');
        if (!keepMessage || !view.error) { view.message = messageOf(answer); view.error = true; }
      })
      .catch(function (error) { view.allowed = null; view.message = 'The console did not answer: ' + error.message; view.error = true; })
      .then(draw);
  }

  function keyForm() {
    var input = element('input', { type: 'password', id: 'api-key', name: 'api-key', autocomplete: 'off', placeholder: 'x-api-key of the CalMS API', 'aria-label': 'CalMS API key' });
    var form = element('form', { class: 'actions-row', id: 'api-key-form' }, [input, element('button', { type: 'submit' }, ['Use this key'])]);
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var key = input.value.trim();
      if (!key) return;
      storeKey(key);
      view.message = null;
      load(false);
    });
    return [element('p', { class: 'meta' }, ['Enter the CalMS API key once for this browser tab: it is kept in the tab\\u2019s session storage and sent only to the CalMS API, through this console.']), form];
  }

  function actionButtons() {
    var allowed = view.allowed;
    var buttons = [];
    if (allowed.cancel) buttons.push(button('Cancel request\\u2026', 'cancel-ask', 'danger'));
    if (allowed.keep) buttons.push(button('Keep beyond expiry', 'keep'));
    if (allowed.release) buttons.push(button('Release (expire as usual)', 'release'));
    if (allowed.resend) buttons.push(button('Resend download email', 'resend'));
    if (allowed.redrive) buttons.push(button('Re-drive', 'redrive'));
    var rows = [];
    var execution = panel.getAttribute('data-execution');
    var latest = view.request && typeof view.request.executionArn === 'string' ? view.request.executionArn.split(':').pop() : execution;
    if (latest !== execution) rows.push(element('p', { class: 'meta' }, ['These act on the request\\u2019s latest attempt, ', element('a', { href: '/executions/' + encodeURIComponent(latest) }, [latest]), '.']));
    rows.push(buttons.length ? element('div', { class: 'actions-row', id: 'action-buttons' }, buttons) : element('p', { class: 'meta', id: 'no-actions' }, ['The API allows no action on this request now.']));
    if (view.confirming && allowed.cancel) {
      rows.push(element('div', { class: 'actions-confirm', id: 'cancel-confirm' }, [
        element('p', {}, ['Cancel request ' + requestId + '? Its execution and calibration job stop, its slot and trigger go, and the ARC contact gets the CANCELLED email. It cannot be re-driven afterwards.']),
        element('div', { class: 'actions-row' }, [button('Yes, cancel the request', 'cancel', 'danger'), button('No, keep it', 'cancel-no', 'secondary')]),
      ]));
    }
    rows.push(element('div', { class: 'actions-row' }, [element('span', { class: 'meta' }, ['API key entered for this tab.']), button('Forget the key', 'forget', 'secondary')]));
    return rows;
  }

  function draw() {
    if (!panel) return;
    var body = panel.querySelector('.actions-body');
    var parts = !storedKey() ? keyForm() : view.allowed ? actionButtons() : [element('p', { class: 'meta' }, [view.busy ? 'Asking the API\\u2026' : ''])];
    if (view.message) {
      var message = element('p', { class: 'actions-message ' + (view.error ? 'error' : 'done'), id: 'action-message', role: 'status' }, [view.message]);
      if (view.link) message.append(element('a', { href: '/executions/' + encodeURIComponent(view.link) }, [view.link]));
      parts.push(message);
    }
    body.replaceChildren.apply(body, parts);
    showKept();
  }

  /** The kept flag in the summary (it is drawn again each time the page refreshes). */
  function showKept() {
    var flag = document.getElementById('delivery-kept');
    if (!flag) return;
    var delivery = view.request && view.request.delivery;
    var text = !delivery ? (storedKey() ? '' : 'Enter the API key (Actions) to see') : delivery.kept ? 'Yes: kept beyond its expiry until released' : 'No: it expires as usual';
    if (text && flag.textContent !== text) flag.textContent = text;
    flag.setAttribute('data-kept', delivery ? String(delivery.kept) : '');
  }

  document.addEventListener('DOMContentLoaded', function () {
    panel = document.getElementById('actions');
    if (!panel) return;
    requestId = panel.getAttribute('data-request-id');
    panel.addEventListener('click', function (event) {
      var target = event.target.closest ? event.target.closest('button[data-action]') : null;
      if (!target || target.disabled) return;
      var action = target.getAttribute('data-action');
      if (action === 'cancel-ask') { view.confirming = true; view.message = null; draw(); }
      else if (action === 'cancel-no') { view.confirming = false; draw(); }
      else if (action === 'forget') { storeKey(''); view.request = null; view.allowed = null; view.message = null; draw(); }
      else if (CALLS[action]) act(action);
    });
    // The page refreshes itself while the execution runs: the kept flag is set again, and once its status
    // changes, what the API allows is asked again.
    new MutationObserver(function () {
      showKept();
      var live = document.getElementById('live');
      var status = live ? live.getAttribute('data-status') : null;
      if (status !== seenStatus) { seenStatus = status; if (seenStatus !== null && !view.busy) load(true); }
    }).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-status'] });
    var live = document.getElementById('live');
    seenStatus = live ? live.getAttribute('data-status') : null;
    draw();
    load(false);
  });
})();
`;
