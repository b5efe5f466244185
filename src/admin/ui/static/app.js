// Progressive touches only: every page works without this script.
// "/" jumps to the device search, as on many sites; times read in the viewer's own zone.
document.addEventListener('keydown', (e) => {
  if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  const box = document.getElementById('where');
  if (box) { e.preventDefault(); box.focus(); box.select(); }
  else { location.href = '/devices'; }
});
for (const el of document.querySelectorAll('time[datetime]')) {
  const d = new Date(el.getAttribute('datetime'));
  if (!Number.isNaN(d.getTime())) { el.title = el.textContent; el.textContent = d.toLocaleString(); }
}
