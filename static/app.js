/* Firewatch progressive enhancement. The app works fully without this file;
   it is loaded with `defer` and must not rely on inline scripts (CSP). */
(function () {
  'use strict';

  // (a) Confirmation prompt for destructive forms: <form data-confirm="…">, or a
  // destructive button of a larger form: <button data-confirm="…">.
  // Delegated so it also covers forms added later; runs in capture phase so
  // it fires before any other submit handlers.
  document.addEventListener('submit', function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) {
      return;
    }
    const button = event.submitter;
    const message = button && button.hasAttribute('data-confirm')
      ? button.dataset.confirm
      : form.dataset.confirm;
    if (!message) {
      return;
    }
    if (!window.confirm(message)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // Polite live region so screen-reader users hear the copy result.
  let liveRegion = null;
  function announce(message) {
    if (!liveRegion) {
      liveRegion = document.createElement('div');
      liveRegion.className = 'visually-hidden';
      liveRegion.setAttribute('role', 'status');
      liveRegion.setAttribute('aria-live', 'polite');
      document.body.appendChild(liveRegion);
    }
    liveRegion.textContent = '';
    window.setTimeout(function () { liveRegion.textContent = message; }, 50);
  }

  // (b) Copy buttons: <button data-copy="element-id" hidden>Copy</button>.
  // They stay hidden unless the Clipboard API is usable.
  function initCopyButtons() {
    if (!navigator.clipboard || typeof navigator.clipboard.writeText !== 'function') {
      return;
    }
    const buttons = document.querySelectorAll('button[data-copy]');
    Array.prototype.forEach.call(buttons, function (button) {
      const target = document.getElementById(button.dataset.copy);
      if (!target) {
        return;
      }
      const originalLabel = button.textContent;
      let timer = 0;

      if (!button.hasAttribute('type')) {
        button.type = 'button'; // never submit an enclosing form
      }
      button.hidden = false;

      function showLabel(label) {
        button.textContent = label;
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          button.textContent = originalLabel;
        }, 2000);
      }

      button.addEventListener('click', function () {
        const text = target.textContent.trim();
        navigator.clipboard.writeText(text).then(function () {
          showLabel('Copied');
          announce('Copied to clipboard');
        }, function () {
          // Fall back to selecting the text so the user can copy by hand.
          const selection = window.getSelection();
          const range = document.createRange();
          range.selectNodeContents(target);
          selection.removeAllRanges();
          selection.addRange(range);
          showLabel('Copy failed');
          announce('Copy failed; the text is selected, copy it manually');
        });
      });
    });
  }

  // (c) The status page's day bars: one Tab stop per service (today's bar), the arrow keys,
  // Home and End move between days. Without this file every bar is its own Tab stop.
  function initDayBars() {
    document.querySelectorAll('ol.days').forEach(function (list) {
      const days = Array.prototype.slice.call(list.querySelectorAll('li.day'));
      if (days.length === 0) {
        return;
      }
      days.forEach(function (d) { d.setAttribute('tabindex', '-1'); });
      days[days.length - 1].setAttribute('tabindex', '0');
      list.addEventListener('keydown', function (event) {
        const at = days.indexOf(document.activeElement);
        if (at < 0) {
          return;
        }
        let next = at;
        if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') {
          next = Math.max(0, at - 1);
        } else if (event.key === 'ArrowRight' || event.key === 'ArrowDown') {
          next = Math.min(days.length - 1, at + 1);
        } else if (event.key === 'Home') {
          next = 0;
        } else if (event.key === 'End') {
          next = days.length - 1;
        } else {
          return;
        }
        event.preventDefault();
        days[at].setAttribute('tabindex', '-1');
        days[next].setAttribute('tabindex', '0');
        days[next].focus();
      });
    });
  }

  // (d) Fragments loaded after the page: <section data-fragment="/url">. The section holds a
  // link to the same content as a page, so nothing is lost without scripts or on a failed
  // fetch; on success the fetched section takes its place.
  function initFragments() {
    document.querySelectorAll('[data-fragment]').forEach(function (section) {
      fetch(section.dataset.fragment, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (!html) {
            return;
          }
          const holder = document.createElement('template');
          holder.innerHTML = html.trim();
          const replacement = holder.content.firstElementChild;
          if (replacement) {
            section.replaceWith(replacement);
          }
        })
        .catch(function () { /* the link stays */ });
    });
  }

  // (e) The reply box's "Reply to the reporter" / "Internal note" switch. Without scripts each
  // is a link that reloads the page in that mode; with them the switch keeps the typed text.
  function initComposeTabs() {
    const box = document.querySelector('.compose');
    if (!box) {
      return;
    }
    const form = box.querySelector('form[action$="/comments"]');
    const visibility = form && form.querySelector('input[name="visibility"]');
    const send = form && form.querySelector('button[data-public]');
    const who = box.querySelector('.compose-who');
    if (!visibility || !send) {
      return;
    }
    box.querySelectorAll('a[data-compose]').forEach(function (tab) {
      tab.addEventListener('click', function (event) {
        event.preventDefault();
        const mode = tab.dataset.compose;
        visibility.value = mode;
        box.classList.toggle('compose-note', mode === 'internal');
        send.textContent = send.dataset[mode];
        if (who) {
          who.textContent = who.dataset[mode];
        }
        box.querySelectorAll('a[data-compose]').forEach(function (other) {
          if (other === tab) {
            other.setAttribute('aria-current', 'true');
          } else {
            other.removeAttribute('aria-current');
          }
        });
        announce(mode === 'internal' ? 'Writing an internal note' : 'Writing a reply to the reporter');
        window.history.replaceState(null, '', tab.getAttribute('href'));
      });
    });
  }

  // (f) Keyboard shortcuts, never required: on the queue j/k move between incidents and Enter
  // opens one; on an incident a assigns it to you, r starts a reply, n an internal note; ?
  // lists them. Ignored while typing and with modifier keys.
  const SHORTCUTS = [
    ['j / k', 'Next / previous incident in the list'],
    ['Enter', 'Open the selected incident'],
    ['a', 'Assign the incident to me'],
    ['r', 'Write a reply to the reporter'],
    ['n', 'Write an internal note'],
    ['?', 'Show these shortcuts'],
  ];
  let helpDialog = null;
  function showShortcuts() {
    if (!helpDialog) {
      helpDialog = document.createElement('dialog');
      helpDialog.className = 'shortcuts';
      helpDialog.setAttribute('aria-labelledby', 'shortcuts-h');
      const h = document.createElement('h2');
      h.id = 'shortcuts-h';
      h.textContent = 'Keyboard shortcuts';
      const list = document.createElement('dl');
      SHORTCUTS.forEach(function (pair) {
        const dt = document.createElement('dt');
        const kbd = document.createElement('kbd');
        kbd.textContent = pair[0];
        dt.appendChild(kbd);
        const dd = document.createElement('dd');
        dd.textContent = pair[1];
        list.appendChild(dt);
        list.appendChild(dd);
      });
      const close = document.createElement('button');
      close.type = 'button';
      close.className = 'btn btn-small';
      close.textContent = 'Close';
      close.addEventListener('click', function () { helpDialog.close(); });
      helpDialog.appendChild(h);
      helpDialog.appendChild(list);
      helpDialog.appendChild(close);
      document.body.appendChild(helpDialog);
    }
    if (typeof helpDialog.showModal === 'function') {
      helpDialog.showModal();
    }
  }

  function typing(target) {
    return target instanceof HTMLElement &&
      (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName));
  }

  function queueLinks() {
    if (!document.querySelector('form.queue-filters')) {
      return [];
    }
    return Array.prototype.slice.call(document.querySelectorAll('table.data td.mono a[href^="/incidents/"]'));
  }

  function moveInQueue(step) {
    const links = queueLinks();
    if (links.length === 0) {
      return false;
    }
    let at = links.indexOf(document.activeElement);
    at = at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + step));
    links.forEach(function (a) { a.closest('tr').classList.remove('kbd-current'); });
    links[at].closest('tr').classList.add('kbd-current');
    links[at].focus();
    return true;
  }

  function compose(mode) {
    const tab = document.querySelector('.compose a[data-compose="' + mode + '"]');
    if (!tab && mode === 'internal') {
      return false; // no internal notes here: never start a public reply instead
    }
    if (tab && tab.getAttribute('aria-current') !== 'true') {
      tab.click();
    }
    const body = document.querySelector('.compose textarea[name="body"]');
    if (!body) {
      return false;
    }
    body.focus();
    return true;
  }

  function initShortcuts() {
    document.addEventListener('keydown', function (event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
        return;
      }
      if (helpDialog && helpDialog.open) {
        return;
      }
      let done = false;
      switch (event.key) {
        case 'j': done = moveInQueue(1); break;
        case 'k': done = moveInQueue(-1); break;
        case 'a': {
          const assign = document.querySelector('form.quick-action button[type="submit"]');
          if (assign) {
            assign.click();
            done = true;
          }
          break;
        }
        case 'r': done = compose('public'); break;
        case 'n': done = compose('internal'); break;
        case '?': showShortcuts(); done = true; break;
        default: break;
      }
      if (done) {
        event.preventDefault();
      }
    });
  }

  function init() {
    initCopyButtons();
    initDayBars();
    initFragments();
    initComposeTabs();
    initShortcuts();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
}());
