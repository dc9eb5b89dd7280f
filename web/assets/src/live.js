/**
 * Live notices (web/live.py): a page of a member of staff carries data-live-url; every
 * data-live-interval seconds we ask what arrived since the last answer (a task, a customer's message,
 * a target about to break), count it in the tab title — "(2) Inbox · caseflow" — and list it in the
 * page's live region (#live-notices, announced politely by screen readers) with links. "Seen" clears
 * both. Without JavaScript the pages are as they were: the same facts show on reload.
 */
export function startLive(root) {
  const body = root.body;
  const url = body && body.dataset.liveUrl;
  const region = root.getElementById('live-notices');
  if (!url || !region || !window.fetch) return;
  const baseTitle = root.title;
  const interval = Math.max(1, Number(body.dataset.liveInterval) || 30) * 1000;
  let since = body.dataset.liveSince;
  let count = 0;
  let list = null;

  function clear() {
    count = 0;
    root.title = baseTitle;
    region.hidden = true;
    region.replaceChildren();
    list = null;
  }

  function show(items) {
    if (!list) {
      const heading = root.createElement('p');
      heading.className = 'live-heading';
      heading.textContent = body.dataset.liveHeading || '';
      list = root.createElement('ul');
      const seen = root.createElement('button');
      seen.type = 'button';
      seen.className = 'secondary';
      seen.textContent = body.dataset.liveDismiss || 'OK';
      seen.addEventListener('click', clear);
      region.append(heading, list, seen);
    }
    for (const item of items) {
      const li = root.createElement('li');
      li.dataset.kind = item.kind;
      const link = root.createElement('a');
      link.href = item.url;
      link.textContent = `${item.label}: ${item.case || ''} ${item.title || ''}`.trim();
      li.append(link);
      if (item.text) {
        const what = root.createElement('span');
        what.className = 'muted';
        what.textContent = ` · ${item.text}`;
        li.append(what);
      }
      list.prepend(li);
    }
    count += items.length;
    root.title = `(${count}) ${baseTitle}`;
    region.hidden = false;
  }

  async function poll() {
    try {
      const answer = await fetch(`${url}?since=${encodeURIComponent(since)}`, {
        headers: { Accept: 'application/json' }, credentials: 'same-origin', redirect: 'manual',
      });
      if (answer.type === 'opaqueredirect') return false; // logged out: stop
      if (!answer.ok) return answer.status >= 500; // refused: stop; a server error: try again
      const data = await answer.json();
      since = data.now || since;
      if (data.items && data.items.length) show(data.items);
    } catch (error) {
      return true; // offline for a moment: try again later
    }
    return true;
  }

  async function loop() {
    const again = await poll();
    if (again !== false) window.setTimeout(loop, interval);
  }
  window.setTimeout(loop, interval);
}
