// The documents of the current call (scans, signed PDFs, what the agent sent), and a viewer.
// Documents are fetched as blobs so that nothing personal stays in the browser's cache. A scan
// is a PDF (every page of a feeder batch) with a small JPEG preview of its first page; from the
// feeder, each sheet comes first on its own (a one-page PDF and its preview, in the list as a
// small picture) as it is scanned, and opens in the viewer unless the agent is reading another
// document or chose a sheet themselves: the agent can stay on page 1 while the feeder still
// takes the rest.
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';

class CabDocuments extends HTMLElement {
  constructor() {
    super();
    this.docs = [];
    this.urls = new Map();
    this.fetching = new Map();
    this.current = null;
    // Whether the agent opened the current document themselves (new sheets then leave it be).
    this.chosen = false;
    // One viewer for the panel's life, so that the list can change under an open document.
    this.viewer = h('div', { class: 'viewer' });
  }

  connectedCallback() {
    this.classList.add('documents', 'panel');
    this.render();
  }

  reset() {
    for (const url of this.urls.values()) URL.revokeObjectURL(url.href);
    this.urls.clear();
    this.fetching.clear();
    this.docs = [];
    this.current = null;
    this.chosen = false;
    mount(this.viewer);
    delete this.viewer.dataset.type;
    delete this.viewer.dataset.documentId;
    this.render();
  }

  /** Add a document of the call; scans and signed PDFs open at once, a feeder's sheets when
   * the agent is not reading something else (see `opensAtOnce`). */
  add(doc) {
    const known = this.docs.find((item) => item.document_id === doc.document_id);
    if (known) {
      // A batch of one sheet is that sheet's PDF: the sheet becomes a plain scan.
      if (doc.pages && known.page) {
        delete known.page;
        this.render();
        if (this.current === known.document_id) this.open(this.current, { chosen: this.chosen });
      }
      return;
    }
    if (doc.pages) {
      // The batch is complete: its sheets, shown one by one so far, now know their count.
      for (const sheet of this.docs) if (sheet.step_id === doc.step_id && sheet.page) sheet.total = doc.pages;
    }
    const opens = this.opensAtOnce(doc);
    this.docs.push({ ...doc, added: Date.now() });
    this.render();
    if (opens) this.open(doc.document_id);
  }

  /** Whether `doc` opens as it arrives. A feeder's sheet (or the batch at its end) opens only
   * over an empty viewer, or over what opened by itself: an earlier sheet of its batch, or a
   * document that is not a sheet. What the agent chose stays in front of them. */
  opensAtOnce(doc) {
    if (doc.kind !== 'scan' && doc.kind !== 'signed') return false;
    if (!doc.page && !doc.pages) return true;
    const shown = this.docs.find((item) => item.document_id === this.current);
    if (!shown) return true;
    if (this.chosen) return false;
    return !shown.page || (shown.step_id === doc.step_id && (!doc.page || shown.page < doc.page));
  }

  /** The console was told how step `update` went: a feeder batch that failed keeps the sheets
   * the agent was sent, no longer waiting for the rest ("Page 2, the batch stopped"). */
  onStep(update) {
    if (update.status !== 'failed') return;
    const sheets = this.docs.filter((doc) => doc.step_id === update.step_id && doc.page && !doc.total);
    if (!sheets.length) return;
    for (const sheet of sheets) sheet.stopped = true;
    this.render();
    if (sheets.some((sheet) => sheet.document_id === this.current)) this.open(this.current, { chosen: this.chosen });
  }

  /** The sheets of feeder batch `batch` the console was sent one by one: page and preview URL. */
  async sheetsOf(batch) {
    const sheets = this.docs
      .filter((known) => known.step_id === batch.step_id && known.page && known.preview_id)
      .sort((a, b) => a.page - b.page);
    const previews = await Promise.all(sheets.map((sheet) => this.blobOf(sheet.preview_id).catch(() => null)));
    return sheets.flatMap((sheet, i) => (previews[i] ? [{ page: sheet.page, href: previews[i].href }] : []));
  }

  /** A document as an object URL, fetched once per call. */
  async blobOf(documentId) {
    const entry = this.urls.get(documentId);
    if (entry) return entry;
    // The list and the viewer may ask for the same preview at once: it is fetched once.
    let fetching = this.fetching.get(documentId);
    if (!fetching) {
      fetching = this.fetchBlob(documentId).finally(() => this.fetching.delete(documentId));
      this.fetching.set(documentId, fetching);
    }
    return fetching;
  }

  async fetchBlob(documentId) {
    const response = await fetch(api.documentUrl(documentId), { credentials: 'same-origin', cache: 'no-store' });
    if (!response.ok) throw new Error(response.status === 404 ? t('documents.gone') : `HTTP ${response.status}`);
    const blob = await response.blob();
    const entry = { href: URL.createObjectURL(blob), type: blob.type, size: blob.size };
    // A call reset while it came: the URL is not kept.
    if (!this.docs.some((doc) => doc.document_id === documentId || doc.preview_id === documentId)) {
      URL.revokeObjectURL(entry.href);
      throw new Error(t('documents.gone'));
    }
    this.urls.set(documentId, entry);
    return entry;
  }

  /** Show `documentId` in the viewer; `chosen` when the agent asked for it. */
  async open(documentId, { chosen = false } = {}) {
    this.current = documentId;
    this.chosen = chosen;
    this.render();
    const viewer = this.viewer;
    try {
      const doc = this.docs.find((item) => item.document_id === documentId);
      // A scan's small preview comes first: it shows the page while the PDF is fetched.
      const preview = doc?.preview_id ? await this.blobOf(doc.preview_id).catch(() => null) : null;
      const kindName = t(`documents.kind.${doc?.kind ?? 'scan'}`);
      const part = doc ? partOf(doc) : '';
      const which = doc?.page ? { page: String(doc.page) } : { pages: String(doc?.pages ?? '') };
      const caption = part ? h('p', { class: 'doc-part', dataset: which }, part) : null;
      const previewImage = () =>
        h('img', { src: preview?.href, alt: part ? `${kindName} · ${part}` : kindName, class: 'doc-preview', dataset: { documentId } });
      if (preview && this.current === documentId) mount(viewer, caption, previewImage());
      const entry = await this.blobOf(documentId);
      if (this.current !== documentId) return;
      const fileName = `${documentId}${entry.type === 'application/pdf' ? '.pdf' : '.jpg'}`;
      let view;
      if (entry.type.startsWith('image/')) {
        view = h('img', { src: entry.href, alt: kindName, class: 'doc-image' });
      } else if (preview) {
        // A scan: its preview, and the PDF (every page, full resolution) a click away.
        const open = { href: entry.href, target: '_blank', rel: 'noopener' };
        // A feeder batch: every sheet's preview (fetched as it came), each opening its page.
        const sheets = doc?.pages ? await this.sheetsOf(doc) : [];
        if (this.current !== documentId) return;
        const sheetView = ({ page, href }) =>
          h(
            'a',
            { ...open, href: `${entry.href}#page=${page}`, class: 'doc-sheet', title: t('documents.page', { page, total: doc?.pages }) },
            h('img', { src: href, alt: `${kindName} · ${t('documents.page', { page, total: doc?.pages })}`, class: 'doc-thumb', dataset: { page: String(page) } }),
          );
        view = h(
          'div',
          { class: 'doc-scan' },
          caption,
          sheets.length
            ? h('div', { class: 'doc-sheets' }, sheets.map(sheetView))
            : h('a', { ...open, class: 'doc-preview-link', title: t('documents.open') }, previewImage()),
          h('a', { ...open, class: 'button doc-open' }, t('documents.open')),
        );
      } else if (navigator.pdfViewerEnabled) {
        view = h('iframe', { src: entry.href, title: kindName, class: 'doc-pdf' });
      } else {
        // No built-in PDF viewer (some browsers, kiosk-mode policies): offer to open it.
        view = h(
          'div',
          { class: 'doc-card' },
          h('span', { class: 'doc-icon', 'aria-hidden': 'true' }, 'PDF'),
          h('strong', {}, kindName),
          h('a', { class: 'button', href: entry.href, target: '_blank', rel: 'noopener' }, t('documents.open')),
        );
      }
      mount(
        viewer,
        view,
        h(
          'p',
          { class: 'doc-meta muted' },
          `${entry.type} · ${Math.max(1, Math.round(entry.size / 1024))} KB · `,
          h('a', { href: entry.href, download: fileName }, t('documents.download')),
        ),
      );
      viewer.dataset.type = entry.type;
      viewer.dataset.documentId = documentId;
    } catch (error) {
      mount(viewer, h('p', { class: 'form-error' }, t('documents.failed', { reason: error.message })));
    }
  }

  render() {
    mount(
      this,
      h('h3', {}, t('documents.title')),
      this.docs.length
        ? h(
            'ul',
            { class: 'doc-list' },
            // The sheets of a finished batch are in its view: the list names the batch once.
            this.docs.filter((doc) => !(doc.page && doc.total)).map((doc) =>
              h(
                'li',
                {},
                h(
                  'button',
                  {
                    type: 'button',
                    class: ['link', doc.document_id === this.current ? 'current' : ''],
                    dataset: { documentId: doc.document_id, kind: doc.kind },
                    onclick: () => this.open(doc.document_id, { chosen: true }),
                  },
                  doc.page && doc.preview_id ? this.sheetThumb(doc) : null,
                  t(`documents.kind.${doc.kind}`),
                  doc.name ? ` · ${doc.name}` : '',
                  partOf(doc) ? ` · ${partOf(doc)}` : '',
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, t('documents.none')),
      this.viewer,
    );
  }

  /** A feeder sheet's preview, small, in its entry of the list (fetched once, as it comes). */
  sheetThumb(doc) {
    const label = `${t(`documents.kind.${doc.kind}`)} · ${partOf(doc)}`;
    const thumb = h('img', { class: 'sheet-thumb', alt: label, dataset: { page: String(doc.page) } });
    const cached = this.urls.get(doc.preview_id);
    if (cached) thumb.src = cached.href;
    else this.blobOf(doc.preview_id).then((entry) => { thumb.src = entry.href; }, () => thumb.remove());
    return thumb;
  }
}

/** Which part of a feeder scan `doc` is: "Page 3 of …" while the feeder runs, "10 pages" at the
 * end, "Page 3, the batch stopped" when it failed. */
function partOf(doc) {
  if (doc.page && doc.stopped) return t('documents.page_stopped', { page: doc.page });
  if (doc.page) return t('documents.page', { page: doc.page, total: doc.total ?? '…' });
  if (doc.pages > 1) return t('documents.pages', { count: doc.pages });
  return '';
}

customElements.define('cab-documents', CabDocuments);
