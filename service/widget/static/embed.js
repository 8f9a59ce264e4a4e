/* Margin comment widget. Plain JavaScript, no framework, no third-party requests, no cookies.
   Renders each widget into its own Shadow DOM root; the only HTML set with innerHTML is the
   server-sanitised `html` of a comment or preview. */
(function () {
  'use strict';
  var W = window, D = document;
  if (W.Margin && W.Margin.scan) { W.Margin.scan(); return; }
  var SRC = (D.currentScript && D.currentScript.src) || '';
  var BASE = SRC.indexOf('/static/embed.') >= 0
    ? SRC.slice(0, SRC.lastIndexOf('/static/embed.'))
    : SRC.replace(/\/embed\.js([?#].*)?$/, '');
  var CSS = BASE + '/static/__MARGIN_CSS__';
  var I18N = { en: __MARGIN_I18N__ };   // English built in; other languages load on demand
  var LANGS = __MARGIN_LANGS__;         // {"de": "i18n.de.<hash>.json", ...}
  var langLoads = {};
  var PAGE = 20, SEARCH_PAGE = 100, SEARCH_MAX_PAGES = 150;
  var OWN_KEY = 'margin.own', ID_KEY = 'margin.identity', WROTE_KEY = 'margin.wrote', WROTE_MS = 60000;
  var mounted = [];
  var seq = 0;

  /* ---------- small helpers ---------- */
  function h(tag, attrs, kids) {
    var el = D.createElement(tag), k;
    for (k in attrs || {}) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    (kids || []).forEach(function (c) { if (c) el.appendChild(typeof c === 'string' ? D.createTextNode(c) : c); });
    return el;
  }
  function store(key, value) {
    try {
      if (value === undefined) return JSON.parse(W.localStorage.getItem(key) || 'null');
      if (value === null) W.localStorage.removeItem(key);
      else W.localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* storage disabled: the widget still works */ }
    return null;
  }
  function randomKey() {
    var a = new Uint8Array(16);
    W.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  }
  function chars(s) { return Array.from(s || '').length; }
  function pickLang(el) {
    var tag = el.getAttribute('data-margin-lang');
    if (!tag) { var c = el.closest('[lang]'); tag = (c && c.getAttribute('lang')) || D.documentElement.lang || ''; }
    var base = tag.toLowerCase().split(/[-_]/)[0];
    return I18N[base] || LANGS[base] ? base : 'en';
  }
  function loadLang(lang) {
    if (I18N[lang]) return Promise.resolve();
    return langLoads[lang] || (langLoads[lang] = fetch(BASE + '/static/' + LANGS[lang], { credentials: 'omit' })
      .then(function (r) { return r.json(); })
      .then(function (d) { I18N[lang] = d; }, function () { I18N[lang] = I18N.en; }));
  }
  /* request helper: resolves {status, data, headers}; rejects only on network failure */
  function req(base, method, path, body, headers, fresh) {
    var init = { method: method, credentials: 'omit', mode: 'cors', headers: headers || {} };
    if (fresh) init.cache = 'no-cache'; // revalidate (ETag): the page may have changed since

    if (body !== undefined) { init.body = JSON.stringify(body); init.headers['Content-Type'] = 'application/json'; }
    return fetch(base + path, init).then(function (r) {
      if (r.status === 204) return { status: 204, data: null, headers: r.headers };
      return r.json().catch(function () { return null; }).then(function (data) {
        return { status: r.status, data: data, headers: r.headers };
      });
    });
  }
  /* Pages may be cached for up to 35 s (max-age + stale-while-revalidate): for a minute after
     the reader's own write, this browser revalidates, so a reload never shows the page before it. */
  function wrote(site, thread, now) {
    var w = store(WROTE_KEY) || {}, t = Date.now(), key = site + ' ' + thread, recent = t - (w[key] || 0) < WROTE_MS;
    if (now) {
      Object.keys(w).forEach(function (k) { if (t - w[k] > WROTE_MS) delete w[k]; });
      w[key] = t;
      store(WROTE_KEY, w);
    }
    return recent;
  }
  function pageQuery(opts, sort, limit, cursor) {
    return '/comments?thread=' + encodeURIComponent(opts.thread) + '&sort=' + sort + '&limit=' + limit + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
  }
  function identicon(seed) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = D.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '-0.5 -0.5 6 6');
    svg.setAttribute('class', 'm-avatar');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    seed = /^[0-9a-f]{16}$/i.test(seed || '') ? seed.toLowerCase() : '';
    var bg = D.createElementNS(ns, 'rect');
    bg.setAttribute('x', '-0.5'); bg.setAttribute('y', '-0.5');
    bg.setAttribute('width', '6'); bg.setAttribute('height', '6');
    bg.setAttribute('fill', seed ? '#f0f2f5' : '#d8dee4');
    svg.appendChild(bg);
    if (!seed) return svg;
    var hue = parseInt(seed.slice(0, 3), 16) % 360;
    var bits = parseInt(seed.slice(3, 11), 16);
    var fill = 'hsl(' + hue + ',55%,40%)';
    for (var y = 0; y < 5; y++) {
      for (var x = 0; x < 3; x++) {
        if ((bits >> (y * 3 + x)) & 1) {
          [x, 4 - x].forEach(function (cx, i) {
            if (i && cx === x) return;
            var r = D.createElementNS(ns, 'rect');
            r.setAttribute('x', cx); r.setAttribute('y', y);
            r.setAttribute('width', '1'); r.setAttribute('height', '1');
            r.setAttribute('fill', fill);
            svg.appendChild(r);
          });
        }
      }
    }
    return svg;
  }

  /* ---------- one widget ---------- */
  function Widget(host, opts) {
    var self = this;
    var lang = opts.lang, S = I18N[lang];
    var api = opts.api;
    var uid = 'm' + (++seq);
    var cfg = null, sort = opts.sort, cursor = null, total = 0, lastRoot = 0;
    var nodes = {};           // id -> {li, art, ol, depth, name, comment}
    var own = {};             // id -> {tok, until, status, reason, body}
    var formToken = null, formTokenAt = 0, idem = null, idemFor = null, replyTo = null, busy = false, cfgLoad = null;
    var rtf = W.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }) : null;
    var dtf = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short' });
    var plural = new Intl.PluralRules(lang);

    function t(key, vars, en) {
      var s = S[key] !== undefined && !en ? S[key] : I18N.en[key];
      return String(s).replace(/\{(\w+)\}/g, function (m, k) { return vars && vars[k] !== undefined ? vars[k] : m; });
    }
    /* "1 character" / "2 characters": keys KEY_one and KEY_other */
    function pl(key, n) { return t(key + (plural.select(n) === 'one' ? '_one' : '_other'), { n: n.toLocaleString(lang) }); }
    /* The server's reason may already say "held for review"; the sentence around it says so too. */
    function plainReason(r) {
      r = String(r || '').replace(/^held for review\s*:\s*/i, '').replace(/\s*:\s*held for review\.?$/i, '').trim();
      return /^held for review\.?$/i.test(r) ? '' : r;
    }
    function rel(date) {
      var secs = (date.getTime() - Date.now()) / 1000, a = Math.abs(secs);
      var units = [[60, 'second', 1], [3600, 'minute', 60], [86400, 'hour', 3600], [2592000, 'day', 86400],
        [31536000, 'month', 2592000], [Infinity, 'year', 31536000]];
      for (var i = 0; i < units.length; i++) {
        if (a < units[i][0]) {
          var n = Math.round(secs / units[i][2]);
          return rtf ? rtf.format(i === 0 && a < 45 ? 0 : n, units[i][1]) : dtf.format(date);
        }
      }
      return dtf.format(date);
    }
    function inTime(seconds) {
      var s = Math.max(1, Math.round(seconds));
      if (!rtf) return s + ' s';
      return s >= 90 ? rtf.format(Math.ceil(s / 60), 'minute') : rtf.format(s, 'second');
    }

    function call(method, path, body, headers, fresh) { return req(api, method, path, body, headers, fresh); }

    /* ---------- skeleton ---------- */
    var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
    var link = h('link', { rel: 'stylesheet', href: CSS });
    var live = h('div', { class: 'm-live', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
    var countEl = h('h2', { class: 'm-count', id: uid + '-count', text: t('loading') });
    var sortSel = h('select', { id: uid + '-sort', class: 'm-sort', onchange: function () { sort = sortSel.value; reload(); } },
      ['oldest', 'newest', 'replies'].map(function (v) { return h('option', { value: v, text: t('sort_' + v) }); }));
    sortSel.value = sort;
    var jump = h('a', { class: 'm-jump', href: '#' + uid + '-form', text: t('jump_form'),
      onclick: function (e) { e.preventDefault(); fName.focus(); fName.scrollIntoView({ block: 'center' }); } });
    var list = h('ol', { class: 'm-list', 'aria-labelledby': uid + '-count' });
    var pendingList = h('ol', { class: 'm-list m-own-list', hidden: true });
    var listMsg = h('p', { class: 'm-note', hidden: true });
    var more = h('button', { type: 'button', class: 'm-btn m-more', hidden: true, text: t('load_more'), onclick: loadPage });
    var notice = h('p', { class: 'm-notice', role: 'alert', hidden: true });
    var dataBox = h('div', { class: 'm-data', id: uid + '-data', tabindex: '-1', hidden: true });
    var dataBtn = h('button', { type: 'button', class: 'm-link', 'aria-expanded': 'false', 'aria-controls': uid + '-data', text: t('my_data'), onclick: toggleData });
    var plain = h('a', { class: 'm-plain', href: BASE + '/sites/' + encodeURIComponent(opts.site) + '/threads?thread=' + encodeURIComponent(opts.thread), text: t('plain_version') });

    /* the form */
    function field(name, type, label, hint, required, extra) {
      var id = uid + '-' + name;
      var input = h(type === 'textarea' ? 'textarea' : 'input', Object.assign({
        id: id, name: name, class: 'm-input', 'aria-describedby': (hint ? id + '-hint ' : '') + id + '-err',
        required: required, 'aria-required': required ? 'true' : null
      }, type === 'textarea' ? { rows: 6 } : { type: type }, extra || {}));
      var err = h('p', { class: 'm-err', id: id + '-err' });
      var wrap = h('div', { class: 'm-field m-f-' + name }, [
        h('label', { for: id }, [label, ' ', h('span', { class: 'm-req', text: required ? t('required') : t('optional') })]),
        hint ? h('p', { class: 'm-hint', id: id + '-hint', text: hint }) : null,
        input, err]);
      return { wrap: wrap, input: input, err: err };
    }
    var F = {
      author_name: field('author_name', 'text', t('name'), null, true, { autocomplete: 'name' }),
      email: field('email', 'email', t('email'), t('email_hint'), true, { autocomplete: 'email' }),
      website: field('website', 'url', t('website'), null, false, { autocomplete: 'url', placeholder: 'https://' }),
      body: field('body', 'textarea', t('comment'), t('comment_hint'), true)
    };
    var fName = F.author_name.input, fBody = F.body.input;
    var counter = h('p', { class: 'm-counter', 'aria-live': 'off' });
    F.body.wrap.appendChild(counter);
    var honey = h('input', { type: 'text', name: 'url_confirm', class: 'm-hp', tabindex: '-1', autocomplete: 'off', 'aria-hidden': 'true' });
    var remember = h('input', { type: 'checkbox', id: uid + '-remember', class: 'm-check' });
    var previewBox = h('div', { class: 'm-preview m-body', hidden: true, tabindex: '-1', 'aria-label': t('preview') });
    var previewBtn = h('button', { type: 'button', class: 'm-btn m-secondary', 'aria-pressed': 'false', text: t('preview'), onclick: togglePreview });
    var submitBtn = h('button', { type: 'submit', class: 'm-btn m-primary', text: t('submit') });
    var replyNote = h('p', { class: 'm-replying', hidden: true });
    var cancelReply = h('button', { type: 'button', class: 'm-link', text: t('cancel_reply'), onclick: function () { setReply(null); } });
    var nextText = h('p', { class: 'm-next' });
    var formTitle = h('h3', { class: 'm-form-title', id: uid + '-form-title', text: t('form_title') });
    var outcome = h('div', { class: 'm-outcome', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
    var form = h('form', { class: 'm-form', id: uid + '-form', novalidate: true, 'aria-labelledby': uid + '-form-title', onsubmit: submit }, [
      formTitle, h('div', { class: 'm-replybar' }, [replyNote, cancelReply]), nextText,
      F.author_name.wrap, F.email.wrap, F.website.wrap, F.body.wrap, previewBox,
      h('div', { class: 'm-hpwrap', 'aria-hidden': 'true' }, [h('label', { text: 'Leave this empty' }, [honey])]),
      h('div', { class: 'm-field m-remember' }, [remember, h('label', { for: uid + '-remember', text: t('remember') })]),
      h('p', { class: 'm-hint', text: t('remember_hint') }),
      h('div', { class: 'm-buttons' }, [submitBtn, previewBtn]),
      outcome]);
    var formSlot = h('div', { class: 'm-formslot' }, [form]);
    cancelReply.hidden = true;
    var wrap = h('section', { class: 'm', lang: lang, 'aria-label': t('region'), hidden: true }, [
      h('div', { class: 'm-top' }, [countEl, h('div', { class: 'm-tools' }, [
        h('label', { for: uid + '-sort', text: t('sort_label') }), sortSel, jump])]),
      notice, pendingList, list, listMsg, more, formSlot, h('p', { class: 'm-foot' }, [plain, ' · ', dataBtn]), dataBox, live]);
    root.appendChild(link);
    root.appendChild(wrap);
    var shown = new Promise(function (res) { link.onload = res; link.onerror = res; W.setTimeout(res, 3000); })
      .then(function () { wrap.hidden = false; });

    /* ---------- rendering ---------- */
    function timeEl(iso) {
      var d = new Date(iso);
      return h('time', { datetime: iso, title: dtf.format(d), text: rel(d) });
    }
    function renderComment(c) {
      var mine = own[c.id];
      var li = h('li', { class: 'm-c' + (c.removed ? ' m-removed' : ''), id: 'comment-' + c.id, 'data-id': c.id });
      var art = h('article', { class: 'm-art', tabindex: '-1', 'aria-labelledby': uid + '-a' + c.id });
      var head = h('header', { class: 'm-h' });
      var node = { li: li, art: art, ol: h('ol', { class: 'm-replies' }), comment: c, name: c.author_name };
      if (c.removed) {
        head.appendChild(identicon(''));
        head.appendChild(h('span', { class: 'm-author', id: uid + '-a' + c.id, text: t('removed_author') }));
        art.appendChild(head);
        art.appendChild(h('p', { class: 'm-body m-gone', text: t('removed', { reason: c.removed_reason || '' }) }));
      } else {
        head.appendChild(identicon(c.avatar));
        var name = c.website && /^https?:\/\//i.test(c.website)
          ? h('a', { href: c.website, rel: 'nofollow ugc noopener noreferrer', target: '_blank', text: c.author_name })
          : h('span', { text: c.author_name });
        head.appendChild(h('span', { class: 'm-author', id: uid + '-a' + c.id }, [name]));
        head.appendChild(h('a', { class: 'm-perma', href: '#comment-' + c.id, 'aria-label': t('permalink') + ', ' + dtf.format(new Date(c.created_at)) }, [timeEl(c.created_at)]));
        if (c.edited_at) head.appendChild(h('span', { class: 'm-edited', title: dtf.format(new Date(c.edited_at)), text: t('edited') }));
        if (mine) head.appendChild(h('span', { class: 'm-badge m-st-' + mine.status, text: t('status_' + mine.status) }));
        art.appendChild(head);
        var body = h('div', { class: 'm-body' });
        body.innerHTML = c.html; // sanitised by the server (nh3)
        art.appendChild(body);
        if (mine && mine.status !== 'approved' && plainReason(mine.reason)) art.appendChild(h('p', { class: 'm-reason', text: t('status_reason', { reason: plainReason(mine.reason) }) }));
        var actions = h('div', { class: 'm-actions' });
        if (!mine || mine.status === 'approved') {
          actions.appendChild(h('button', { type: 'button', class: 'm-link m-reply', 'aria-label': t('reply_to', { name: c.author_name }), text: t('reply'),
            onclick: function () { setReply(c.id); } }));
        }
        if (!mine) actions.appendChild(h('button', { type: 'button', class: 'm-link m-report-btn', 'aria-label': t('report_label', { name: c.author_name }), text: t('report'), onclick: function () { openReport(c.id); } }));
        if (mine && new Date(mine.until).getTime() > Date.now() && mine.status !== 'deleted') {
          actions.appendChild(h('button', { type: 'button', class: 'm-link m-edit', text: t('edit'), onclick: function () { startEdit(c.id); } }));
          actions.appendChild(h('button', { type: 'button', class: 'm-link m-delete', text: t('delete'), onclick: function () { askDelete(c.id); } }));
          actions.appendChild(h('span', { class: 'm-until', text: t('edit_until', { time: dtf.format(new Date(mine.until)) }) }));
        }
        art.appendChild(actions);
      }
      li.appendChild(art);
      li.appendChild(node.ol);
      return node;
    }
    function place(c, prepend, container) {
      if (nodes[c.id]) return nodes[c.id];
      var node = renderComment(c), parent = c.parent_id ? nodes[c.parent_id] : null;
      if (c.parent_id && !parent) return null;
      node.depth = parent ? parent.depth + 1 : 0;
      var target = container || list;
      if (parent) {
        if (node.depth > opts.maxDepth) {
          node.depth = parent.depth;
          target = parent.li.parentNode;
          node.art.querySelector('.m-h').appendChild(h('span', { class: 'm-inreply', text: t('in_reply_to', { name: parent.name || t('removed_author') }) }));
        } else target = parent.ol;
      }
      node.li.setAttribute('data-depth', node.depth);
      if (prepend && target.firstChild) target.insertBefore(node.li, target.firstChild); else target.appendChild(node.li);
      nodes[c.id] = node;
      return node;
    }
    function moreReplies(rootId) {
      var n = nodes[rootId];
      if (!n || n.comment.parent_id) return;
      var shownCount = n.li.querySelectorAll('.m-c:not(.m-removed)').length;
      var btn = n.li.querySelector(':scope > .m-morereplies');
      if (shownCount >= n.comment.reply_count) { if (btn) btn.remove(); return; }
      if (btn) return;
      var rc = null;
      btn = h('button', { type: 'button', class: 'm-btn m-morereplies', text: t('more_replies'), onclick: function () {
        btn.disabled = true;
        var q = '/comments?thread=' + encodeURIComponent(opts.thread) + '&root=' + rootId + '&limit=100' + (rc ? '&cursor=' + encodeURIComponent(rc) : '');
        call('GET', q).then(function (r) {
          btn.disabled = false;
          if (r.status !== 200) return;
          r.data.comments.forEach(function (c) { place(c); });
          rc = r.data.next_cursor;
          if (!rc) btn.remove();
        }, function () { btn.disabled = false; });
      } });
      n.li.appendChild(btn);
    }
    function setCount() {
      countEl.textContent = t('count_' + plural.select(total), { n: total.toLocaleString(lang) });
    }

    /* ---------- loading ---------- */
    function fetchPage(limit, first, fresh) {
      return (first || call('GET', pageQuery(opts, sort, limit, cursor), undefined, undefined, fresh)).then(function (r) {
        if (r.status !== 200) throw new Error((r.data && r.data.error && r.data.error.message) || String(r.status));
        return r.data;
      });
    }
    function addPage(data) {
      total = data.thread.total;
      setCount();
      var roots = [];
      data.comments.forEach(function (c) { if (place(c) && !c.parent_id) { roots.push(c.id); lastRoot = c.id; } });
      roots.forEach(moreReplies);
      cursor = data.next_cursor;
      more.hidden = !cursor;
      listMsg.hidden = total > 0 || list.firstChild !== null;
      listMsg.textContent = t('empty');
    }
    function loadPage() {
      more.disabled = true;
      more.textContent = t('loading_more');
      var before = list.lastElementChild;
      return fetchPage(PAGE).then(function (data) {
        addPage(data);
        more.disabled = false;
        more.textContent = t('load_more');
        var first = before ? before.nextElementSibling : list.firstElementChild;
        if (first) first.querySelector('article').focus({ preventScroll: true });
        announce(t('loaded_more'));
      }, function () {
        more.disabled = false;
        more.textContent = t('load_more');
        announce(t('load_failed'));
      });
    }
    function clearList() { list.textContent = ''; pendingList.textContent = ''; nodes = {}; cursor = null; lastRoot = 0; }
    function reload() {
      clearList();
      if (!cfg) loadConfig().then(function () { say('', 'ok'); }, function () { configFailed(retryConfig); });
      return fetchPage(PAGE, null, true).then(addPage).then(showOwn).then(function () { return findTarget(false); }, loadFailed);
    }
    function loadFailed() {
      countEl.textContent = t('region');
      return diagnose().then(function () {
        listMsg.hidden = false;
        listMsg.textContent = t('load_failed') + ' ';
        listMsg.appendChild(h('button', { type: 'button', class: 'm-link m-retry', text: t('retry'), onclick: function () { listMsg.hidden = true; reload(); } }));
      });
    }
    /* After a failed request: is this page's origin registered, does the site exist? Tells the
       publisher what to do, on the page and in the console, instead of failing silently. */
    function diagnose() {
      var o = W.location.origin;
      return fetch(BASE + '/sites/' + encodeURIComponent(opts.site) + '/origin-check?origin=' + encodeURIComponent(o), { credentials: 'omit' })
        .then(function (r) { return r.json(); })
        .then(function (d) {
          var key = o === 'null' ? 'pub_file' : !d.site_exists ? 'pub_site' : !d.allowed ? 'pub_origin' : '';
          if (!key) { notice.hidden = true; return ''; }
          var v = { origin: o, site: opts.site, command: 'margin site ' + (d.site_exists ? 'update ' : 'create ') + opts.site + ' --origin ' + o };
          if (notice.hidden && W.console) console.error('Margin: ' + t(key, v, true));
          notice.textContent = t(key, v);
          notice.hidden = false;
          return notice.textContent;
        }, function () { return ''; });
    }
    function loadConfig(first) {
      if (cfg) return Promise.resolve(cfg);
      return cfgLoad || (cfgLoad = (first || call('GET', '/config')).then(function (r) {
        if (r.status !== 200) throw new Error('config ' + r.status);
        useConfig(r.data);
        return cfg;
      }).then(null, function (e) { cfgLoad = null; throw e; }));
    }
    function useConfig(data) {
      cfg = data;
      if (!opts.maxDepthSet) opts.maxDepth = cfg.max_depth;
      var mode = cfg.moderation_mode;
      nextText.textContent = t(mode === 'publish' ? 'next_publish' : mode === 'premoderate_all' ? 'next_all' : 'next_first') + ' ' +
        t('next_edit', { min: Math.round(cfg.edit_window_seconds / 60) }) + ' ' + t('privacy');
      Object.keys(F).forEach(function (k) { if (cfg.limits[k]) F[k].input.setAttribute('maxlength', cfg.limits[k] * 2); });
      updateCounter();
    }
    /* The form's settings could not be loaded: say so, with a retry of what failed. */
    function configFailed(retry) {
      return diagnose().then(function (p) { say(p || t('err_config'), 'error', p ? null : retry); });
    }
    function retryConfig() { loadConfig().then(function () { say('', 'ok'); }, function () { configFailed(retryConfig); }); }
    /* permalinks: #comment-123 scrolls to and highlights the comment, loading later pages if needed */
    function targetId() {
      var m = /^#comment-(\d+)$/.exec(W.location.hash);
      return m ? Number(m[1]) : null;
    }
    function findTarget(fromHashChange) {
      var id = targetId();
      if (!id) return null;
      var pages = 0;
      function step() {
        if (nodes[id]) { highlight(id); return null; }
        // Oldest first: top-level ids only grow, and a reply's id is above its root's.
        var done = !cursor || pages >= SEARCH_MAX_PAGES || (sort === 'oldest' && lastRoot > id);
        if (done) { if (fromHashChange !== 'silent' && mounted.length === 1) announce(t('not_found')); return null; }
        pages++;
        return fetchPage(SEARCH_PAGE).then(addPage).then(step);
      }
      return step();
    }
    function highlight(id) {
      var n = nodes[id];
      Object.keys(nodes).forEach(function (k) { nodes[k].art.classList.remove('m-target'); });
      n.art.classList.add('m-target');
      n.art.scrollIntoView({ block: 'center' });
      n.art.focus({ preventScroll: true });
    }
    function announce(msg) { live.textContent = ''; W.setTimeout(function () { live.textContent = msg; }, 30); }

    /* ---------- the author's own comments (edit tokens in localStorage) ---------- */
    function ownAll() { return store(OWN_KEY) || {}; }
    function ownSave(id, rec) {
      var all = ownAll(), key = opts.site + ':' + id, now = Date.now();
      if (rec) all[key] = rec; else delete all[key];
      Object.keys(all).forEach(function (k) { if (now - all[k].at > 30 * 86400000) delete all[k]; });
      store(OWN_KEY, all);
    }
    function showOwn() {
      var all = ownAll(), prefix = opts.site + ':';
      var jobs = Object.keys(all).filter(function (k) { return k.indexOf(prefix) === 0 && all[k].thread === opts.thread; }).map(function (k) {
        var rec = all[k], id = Number(k.slice(prefix.length));
        return call('GET', '/comments/' + id + '/own', undefined, { 'X-Edit-Token': rec.tok }).then(function (r) {
          if (r.status === 404) { ownSave(id, null); return; }
          if (r.status !== 200) return;
          own[id] = { tok: rec.tok, until: r.data.editable_until, status: r.data.status, reason: r.data.reason, body: r.data.body };
          showMine(id, r.data.comment);
        }, function () { /* offline: public view only */ });
      });
      return Promise.all(jobs);
    }
    function showMine(id, comment) {
      var old = nodes[id], mine = own[id];
      if (mine.status === 'deleted') { if (old) old.li.remove(); delete nodes[id]; return; }
      if (old) {
        var fresh = renderComment(comment);
        fresh.depth = old.depth;
        old.art.replaceWith(fresh.art);
        old.art = fresh.art;
        old.comment = comment;
        return;
      }
      if (mine.status !== 'approved') {
        // Not public yet: show it where it will appear, marked as visible only to its author.
        var n = place(comment, sort === 'newest', comment.parent_id ? null : pendingList);
        if (!n) n = place(Object.assign({}, comment, { parent_id: null }), false, pendingList);
        pendingList.hidden = !pendingList.firstChild;
        return;
      }
      place(comment, sort === 'newest');
    }
    function startEdit(id) {
      var n = nodes[id], mine = own[id];
      if (n.art.querySelector('.m-editor')) return;
      var ta = h('textarea', { class: 'm-input', id: uid + '-edit' + id, rows: 5, 'aria-label': t('edit_label') });
      ta.value = mine.body;
      var err = h('p', { class: 'm-err', role: 'alert' });
      var ed = h('div', { class: 'm-editor' }, [h('label', { for: uid + '-edit' + id, class: 'm-sr', text: t('edit_label') }), ta, err,
        h('div', { class: 'm-buttons' }, [
          h('button', { type: 'button', class: 'm-btn m-primary m-save', text: t('save'), onclick: function () {
            var v = ta.value;
            if (!v.trim()) { err.textContent = t('v_required', { field: t('comment') }); ta.focus(); return; }
            if (chars(v) > cfg.limits.body) { err.textContent = t('v_too_long', { field: t('comment'), max: cfg.limits.body }); ta.focus(); return; }
            call('PATCH', '/comments/' + id, { body: v }, { 'X-Edit-Token': mine.tok }).then(function (r) {
              if (r.status === 200) {
                wrote(opts.site, opts.thread, true);
                own[id] = Object.assign(mine, { status: r.data.status, reason: r.data.reason, body: r.data.body, until: r.data.editable_until });
                showMine(id, r.data.comment);
                nodes[id].art.focus();
                var why = plainReason(r.data.reason);
                say(t('edited_ok') + (r.data.status === 'pending' ? ' ' + t(why ? 'out_pending' : 'out_pending_plain', { reason: why }) : ''), 'ok');
              } else err.textContent = errorText(r);
            }, function () { err.textContent = t('err_network'); });
          } }),
          h('button', { type: 'button', class: 'm-btn m-secondary', text: t('cancel'), onclick: function () { ed.remove(); n.art.focus(); } })])]);
      n.art.appendChild(ed);
      ta.focus();
    }
    function askDelete(id) {
      var n = nodes[id], mine = own[id];
      if (n.art.querySelector('.m-confirm')) return;
      var box = h('div', { class: 'm-confirm', role: 'group', 'aria-label': t('delete') }, [h('p', { text: t('confirm_delete') }),
        h('button', { type: 'button', class: 'm-btn m-danger', text: t('yes_delete'), onclick: function () {
          call('DELETE', '/comments/' + id, undefined, { 'X-Edit-Token': mine.tok }).then(function (r) {
            if (r.status === 204) {
              wrote(opts.site, opts.thread, true);
              ownSave(id, null); delete own[id];
              n.li.remove(); delete nodes[id];
              pendingList.hidden = !pendingList.firstChild;
              say(t('deleted_ok'), 'ok');
              fBody.focus();
            } else say(errorText(r), 'error');
          }, function () { say(t('err_network'), 'error'); });
        } }),
        h('button', { type: 'button', class: 'm-btn m-secondary', text: t('cancel'), onclick: function () { box.remove(); n.art.focus(); } })]);
      n.art.appendChild(box);
      box.querySelector('button').focus();
    }

    /* ---------- reader controls: report a comment; "my data" by the stored edit tokens ---------- */
    function openReport(id) {
      var n = nodes[id];
      if (n.art.querySelector('.m-report')) return;
      var cat = h('select', { id: uid + '-rc' + id, class: 'm-sort' }, ['spam', 'abuse', 'off_topic', 'illegal', 'personal_data', 'other'].map(function (v) {
        return h('option', { value: v, text: t('cat_' + v) });
      }));
      var note = h('textarea', { id: uid + '-rn' + id, class: 'm-input', rows: 2, maxlength: 500 });
      var err = h('p', { class: 'm-err', role: 'alert' });
      var box = h('div', { class: 'm-report m-editor', role: 'group', 'aria-label': t('report') }, [
        h('label', { for: cat.id, text: t('report_why') }), cat,
        h('label', { for: note.id, text: t('report_note') }), note, err,
        h('div', { class: 'm-buttons' }, [
          h('button', { type: 'button', class: 'm-btn m-primary', text: t('report_send'), onclick: send }),
          h('button', { type: 'button', class: 'm-btn m-secondary', text: t('cancel'), onclick: function () { box.remove(); n.art.focus(); } })])]);
      function send() {
        err.textContent = '';
        call('POST', '/comments/' + id + '/flags', { category: cat.value, note: note.value.trim() }).then(function (r) {
          if (r.status !== 202) { err.textContent = r.status === 422 && r.data && r.data.error ? r.data.error.message : errorText(r); return; }
          var done = h('p', { class: 'm-note m-reported', tabindex: '-1', text: t('report_thanks') });
          box.replaceWith(done);
          done.focus();
        }, function () { err.textContent = t('err_network'); });
      }
      n.art.appendChild(box);
      cat.focus();
    }
    function ownTokens() {
      var all = ownAll(), prefix = opts.site + ':';
      return Object.keys(all).filter(function (k) { return k.indexOf(prefix) === 0; }).map(function (k) {
        return { comment_id: Number(k.slice(prefix.length)), edit_token: all[k].tok };
      });
    }
    /* One unknown token fails the whole request (no oracle): drop the comments that are gone. */
    function pruneTokens() {
      return Promise.all(ownTokens().map(function (o) {
        return call('GET', '/comments/' + o.comment_id + '/own', undefined, { 'X-Edit-Token': o.edit_token }).then(function (r) {
          if (r.status === 404) ownSave(o.comment_id, null);
        });
      }));
    }
    function privacy(path, retried) {
      var mine = ownTokens();
      return call('POST', '/privacy/' + path, { comments: mine }).then(function (r) {
        if (r.status === 404 && !retried) return pruneTokens().then(function () { return ownTokens().length ? privacy(path, true) : r; });
        return r;
      });
    }
    function toggleData() {
      var open = dataBox.hidden;
      dataBox.hidden = !open;
      dataBtn.setAttribute('aria-expanded', String(open));
      if (open) showData();
    }
    function showData(msg) {
      var n = ownTokens().length;
      var status = h('p', { class: 'm-note', role: 'status', text: msg || '' });
      var buttons = h('div', { class: 'm-buttons' }, n ? [
        h('button', { type: 'button', class: 'm-btn m-secondary', text: t('data_export'), onclick: exportData }),
        h('button', { type: 'button', class: 'm-btn m-danger', text: t('data_erase'), onclick: askErase })] : []);
      dataBox.textContent = '';
      [h('h3', { class: 'm-form-title', text: t('my_data') }), h('p', { text: n ? pl('data_held', n) : t('data_none') }), buttons, status]
        .forEach(function (el) { dataBox.appendChild(el); });
      function fail(r) { status.textContent = r ? errorText(r) : t('err_network'); }
      function exportData() {
        status.textContent = t('loading_more');
        privacy('export').then(function (r) {
          if (r.status !== 200) return fail(r);
          var a = h('a', { href: URL.createObjectURL(new Blob([JSON.stringify(r.data, null, 2)], { type: 'application/json' })),
            download: 'margin-' + opts.site + '-my-data.json', text: t('data_download') });
          status.textContent = pl('data_exported', r.data.comments.length) + ' ';
          status.appendChild(a);
          a.click();
        }, function () { fail(); });
      }
      function askErase() {
        var box = h('div', { class: 'm-confirm', role: 'group', 'aria-label': t('data_erase') }, [h('p', { text: t('data_confirm') }),
          h('button', { type: 'button', class: 'm-btn m-danger', text: t('data_yes'), onclick: function () {
            privacy('erase').then(function (r) {
              if (r.status !== 200) return fail(r);
              ownTokens().forEach(function (o) { ownSave(o.comment_id, null); delete own[o.comment_id]; });
              store(ID_KEY, null);
              wrote(opts.site, opts.thread, true);
              remember.checked = false;
              showData(pl('data_erased', r.data.comments));
              dataBox.focus();
              reload();
            }, function () { fail(); });
          } }),
          h('button', { type: 'button', class: 'm-btn m-secondary', text: t('cancel'), onclick: function () { box.remove(); dataBtn.focus(); } })]);
        dataBox.appendChild(box);
        box.querySelector('button').focus();
      }
    }

    /* ---------- the form ---------- */
    function setReply(id) {
      replyTo = id;
      var n = id ? nodes[id] : null;
      if (n) {
        n.li.insertBefore(formSlot, n.ol);
        replyNote.textContent = t('replying_to', { name: n.name || t('removed_author') });
      } else wrap.insertBefore(formSlot, wrap.querySelector('.m-foot'));
      replyNote.hidden = cancelReply.hidden = !n;
      formTitle.textContent = n ? t('reply_to', { name: n.name }) : t('form_title');
      (fName.value ? fBody : fName).focus();
    }
    function getFormToken() {
      if (!formToken) {
        formTokenAt = Date.now();
        formToken = call('GET', '/form-token?thread=' + encodeURIComponent(opts.thread)).then(function (r) {
          return r.status === 200 ? r.data.token : null;
        }, function () { formToken = null; return null; });
      }
      return formToken;
    }
    form.addEventListener('focusin', function () {
      // A token lasts an hour and says when the reader started writing (formtoken.py): one
      // fetched over ten minutes ago, with nothing written yet, is replaced by a fresh one.
      if (formToken && !fBody.value && Date.now() - formTokenAt > 600000) formToken = null;
      getFormToken();
    });
    function updateCounter() {
      if (!cfg) return;
      var left = cfg.limits.body - chars(fBody.value);
      counter.textContent = left < 0 ? pl('chars_over', -left) : pl('chars_left', left);
      counter.classList.toggle('m-over', left < 0);
    }
    fBody.addEventListener('input', updateCounter);
    function validate() {
      var errs = {}, L = cfg.limits;
      var v = { author_name: fName.value.trim(), email: F.email.input.value.trim(), website: F.website.input.value.trim(), body: fBody.value };
      var ctl = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
      var bidi = /[\u202a-\u202e\u2066-\u2069\u200e\u200f]/;
      if (!v.author_name) errs.author_name = t('v_required', { field: t('name') });
      else if (chars(v.author_name) > L.author_name) errs.author_name = t('v_too_long', { field: t('name'), max: L.author_name });
      else if (ctl.test(v.author_name) || bidi.test(v.author_name)) errs.author_name = t('v_chars');
      var at = v.email.lastIndexOf('@'), dom = v.email.slice(at + 1);
      if (!v.email) errs.email = t('v_required', { field: t('email') });
      else if (chars(v.email) > L.email) errs.email = t('v_too_long', { field: t('email'), max: L.email });
      else if (at < 1 || dom.indexOf('.') < 0 || dom[0] === '.' || dom.slice(-1) === '.' || /\s/.test(v.email)) errs.email = t('v_email');
      if (v.website) {
        if (chars(v.website) > L.website) errs.website = t('v_too_long', { field: t('website'), max: L.website });
        else if (!/^https?:\/\/[^\s/?#]+/i.test(v.website) || /\s/.test(v.website)) errs.website = t('v_url');
      }
      if (!v.body.trim()) errs.body = t('v_required', { field: t('comment') });
      else if (chars(v.body) > L.body) errs.body = t('v_too_long', { field: t('comment'), max: L.body });
      else if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v.body)) errs.body = t('v_chars');
      return { values: v, errors: errs };
    }
    function showErrors(errs) {
      var first = null;
      Object.keys(F).forEach(function (k) {
        var msg = errs[k] || '';
        F[k].err.textContent = msg;
        if (msg) { F[k].input.setAttribute('aria-invalid', 'true'); first = first || F[k].input; }
        else F[k].input.removeAttribute('aria-invalid');
      });
      if (first) first.focus();
      return first;
    }
    /* The outcome line; with ``retry``, a "Try again" button that repeats what failed. */
    function say(msg, kind, retry) {
      outcome.className = 'm-outcome m-' + kind;
      outcome.textContent = '';
      W.setTimeout(function () {
        outcome.textContent = msg;
        if (msg && retry) outcome.appendChild(h('button', { type: 'button', class: 'm-link m-retry', text: t('retry'), onclick: function () { retry(); } }));
      }, 30);
    }
    function retryAfter(r) {
      // HTTP's header first (readable across origins because the API exposes it; a proxy's 503
      // has no Margin body), then the body's copy.
      var s = Number(r.headers.get('Retry-After')) || (r.data && r.data.error && r.data.error.retry_after) || 0;
      return s || 30;
    }
    function errorText(r) {
      var e = (r.data && r.data.error) || {};
      var msg = e.message || '';
      switch (r.status) {
        case 409: return /already posted/.test(msg) ? t('err_duplicate') : t('err_generic', { message: msg });
        case 404: return t('err_not_found');
        case 413: return t('err_too_large');
        case 401: case 403: return t('err_forbidden', { message: msg });
        case 429: return t('err_rate', { time: inTime(retryAfter(r)) });
        case 503: return t('err_unavailable', { time: inTime(retryAfter(r)) });
        case 422: return t('v_summary');
        default: return t('err_generic', { message: msg || String(r.status) });
      }
    }
    function togglePreview() {
      var on = previewBox.hidden;
      if (!on) { previewBox.hidden = true; previewBtn.textContent = t('preview'); previewBtn.setAttribute('aria-pressed', 'false'); fBody.focus(); return; }
      previewBox.textContent = t('loading');
      previewBox.hidden = false;
      previewBtn.textContent = t('write');
      previewBtn.setAttribute('aria-pressed', 'true');
      if (!fBody.value.trim()) { previewBox.textContent = t('preview_empty'); return; }
      call('POST', '/preview', { body: fBody.value }).then(function (r) {
        if (r.status === 200) previewBox.innerHTML = r.data.html; // sanitised by the server
        else previewBox.textContent = errorText(r);
      }, function () { previewBox.textContent = t('err_network'); });
    }
    function setBusy(on) {
      busy = on;
      submitBtn.disabled = on;
      submitBtn.textContent = t(on ? 'sending' : 'submit');
    }
    function submit(e) {
      if (e && e.preventDefault) e.preventDefault();
      if (busy) return;
      if (!cfg) {
        // The settings failed to load earlier: load them now, then post; or say why not.
        setBusy(true);
        loadConfig().then(function () { setBusy(false); submit(); }, function () { setBusy(false); configFailed(submit); });
        return;
      }
      var checked = validate();
      if (showErrors(checked.errors)) { say(t('v_summary'), 'error'); return; }
      var v = checked.values;
      var payload = { thread: opts.thread, author_name: v.author_name, email: v.email, body: v.body, honeypot: honey.value || null };
      if (v.website) payload.website = v.website;
      if (replyTo) payload.parent_id = replyTo;
      if (opts.title) payload.thread_title = opts.title.slice(0, 300);
      if (opts.url) payload.thread_url = opts.url;
      var fp = JSON.stringify(payload);
      if (fp !== idemFor) { idem = randomKey(); idemFor = fp; }
      setBusy(true);
      getFormToken().then(function (tok) {
        if (tok) payload.form_token = tok;
        return call('POST', '/comments', payload, { 'Idempotency-Key': idem });
      }).then(function (r) {
        if (r.status === 201) return created(r.data, v);
        if (r.status === 422) {
          var errs = {};
          ((r.data && r.data.error && r.data.error.fields) || []).forEach(function (f) {
            var k = f.field.split('.').pop();
            if (F[k]) errs[k] = f.message; else errs.body = errs.body || f.message;
          });
          if (!Object.keys(errs).length) errs.body = (r.data && r.data.error && r.data.error.message) || t('v_summary');
          showErrors(errs);
        }
        if (r.status !== 429 && r.status !== 503) idemFor = null; // a definite answer: next try is a new request
        if (r.status === 403) return diagnose().then(function (p) { say(p || errorText(r), 'error'); });
        var again = r.status === 429 || r.status >= 500;
        say(errorText(r), 'error', again ? submit : null);
      }, function () {
        // A CORS refusal looks like a network failure: ask whether this origin is registered.
        return diagnose().then(function (p) {
          say(p || t('err_network'), 'error', p ? null : submit); // same Idempotency-Key: never posts twice
        });
      }).then(function () { setBusy(false); });
    }
    function created(d, v) {
      idemFor = null;
      formToken = null;
      wrote(opts.site, opts.thread, true);
      if (remember.checked) store(ID_KEY, { name: v.author_name, email: v.email, website: v.website });
      else store(ID_KEY, null);
      ownSave(d.id, { tok: d.edit_token, thread: opts.thread, at: Date.now() });
      own[d.id] = { tok: d.edit_token, until: d.editable_until, status: d.status, reason: d.reason, body: v.body };
      var ok = d.status === 'approved' || d.status === 'pending', why = plainReason(d.reason);
      // Every outcome is shown at once, as the author will see it after a reload: published, held
      // or not published (with its badge and reason), so nobody posts the same text again.
      fBody.value = '';
      previewBox.hidden = true;
      previewBtn.textContent = t('preview');
      updateCounter();
      setReply(null);
      if (d.comment && d.comment.id) showMine(d.id, d.comment);
      if (d.status === 'approved') { total += 1; setCount(); }
      say(d.status === 'approved' ? t('out_published') : d.status === 'pending' ? t(why ? 'out_pending' : 'out_pending_plain', { reason: why })
        : t('out_' + (d.status === 'spam' ? 'spam' : 'rejected'), { reason: why }), ok ? 'ok' : 'error');
      if (nodes[d.id]) nodes[d.id].art.classList.add('m-new');
    }

    /* ---------- start ---------- */
    var saved = store(ID_KEY);
    if (saved) {
      fName.value = saved.name || '';
      F.email.input.value = saved.email || '';
      F.website.input.value = saved.website || '';
      remember.checked = true;
    }
    remember.addEventListener('change', function () { if (!remember.checked) store(ID_KEY, null); });
    this.ready = Promise.all([
      // A failed config does not hide the comments: the form says so, with a retry.
      loadConfig(opts.pre.config).then(null, function () { return shown.then(function () { return configFailed(retryConfig); }); }),
      fetchPage(PAGE, opts.pre.page),
      shown
    ]).then(function (res) {
      addPage(res[1]);
      W.requestAnimationFrame(function () {
        W.performance && performance.mark && performance.mark('margin:painted');
        host.dispatchEvent(new CustomEvent('margin:painted', { bubbles: true }));
      });
      return showOwn();
    }).then(function () { return findTarget('silent'); }, function () { wrap.hidden = false; loadFailed(); });
    W.addEventListener('hashchange', function () { self.ready.then(function () { findTarget(true); }); });
  }

  /* ---------- find tags and containers ---------- */
  function mount(el, fromScript) {
    if (mounted.some(function (m) { return m.el === el; })) return;
    var site = el.getAttribute('data-margin-site');
    if (!site) return;
    var host;
    if (fromScript) {
      var sel = el.getAttribute('data-margin-container');
      host = sel ? D.querySelector(sel) : null;
      if (!host) {
        var only = D.getElementById('margin-thread');
        if (only && !only.shadowRoot && !only.getAttribute('data-margin-site') && !mounted.some(function (m) { return m.host === only; })) host = only;
      }
      if (!host) { host = D.createElement('div'); el.parentNode.insertBefore(host, el.nextSibling); }
    } else host = el;
    if (mounted.some(function (m) { return m.host === host; })) return;
    host.classList.add('margin-comments');
    var canon = D.querySelector('link[rel="canonical"]');
    var url = (canon && canon.href) || W.location.href.split('#')[0];
    var depth = parseInt(el.getAttribute('data-margin-max-depth'), 10);
    var s = el.getAttribute('data-margin-sort');
    var opts = {
      site: site,
      api: BASE + '/api/v1/sites/' + encodeURIComponent(site),
      thread: el.getAttribute('data-margin-thread') || W.location.pathname,
      title: el.getAttribute('data-margin-title') || D.title,
      url: /^https?:/.test(url) && url.indexOf(W.location.origin) === 0 ? url : null,
      lang: pickLang(el),
      sort: s === 'newest' || s === 'replies' ? s : 'oldest',
      maxDepth: depth >= 0 ? depth : 5,
      maxDepthSet: depth >= 0
    };
    var rec = { el: el, host: host, widget: null };
    mounted.push(rec);
    // Start the API requests now, in parallel with the language file and the stylesheet.
    opts.pre = { config: req(opts.api, 'GET', '/config'), page: req(opts.api, 'GET', pageQuery(opts, opts.sort, PAGE), undefined, undefined, wrote(site, opts.thread)) };
    opts.pre.config.catch(function () {}); opts.pre.page.catch(function () {}); // handled by the widget
    loadLang(opts.lang).then(function () { rec.widget = new Widget(host, opts); });
  }
  function scan() {
    D.querySelectorAll('script[data-margin-site]').forEach(function (s) { mount(s, true); });
    D.querySelectorAll('[data-margin-container][data-margin-site]:not(script)').forEach(function (el) { mount(el, false); });
  }
  W.Margin = { scan: scan, widgets: mounted, version: '1' };
  if (D.readyState === 'loading') D.addEventListener('DOMContentLoaded', scan); else scan();
})();
