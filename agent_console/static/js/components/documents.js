// The documents of the current call (scans, signed PDFs, what the agent sent), and a viewer.
// Documents are fetched as blobs so that nothing personal stays in the browser's cache. A scan
// is a PDF (every page of a feeder batch) with a small JPEG preview of its first page.
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';

class CabDocuments extends HTMLElement {
  constructor() {
    super();
    this.docs = [];
    this.urls = new Map();
    this.current = null;
  }

  connectedCallback() {
    this.classList.add('documents', 'panel');
    this.render();
  }

  reset() {
    for (const url of this.urls.values()) URL.revokeObjectURL(url.href);
    this.urls.clear();
    this.docs = [];
    this.current = null;
    this.render();
  }

  /** Add a document of the call; scans and signed PDFs open at once. */
  add(doc) {
    if (this.docs.some((known) => known.document_id === doc.document_id)) return;
    this.docs.push({ ...doc, added: Date.now() });
    this.render();
    if (doc.kind === 'scan' || doc.kind === 'signed') this.open(doc.document_id);
  }

  /** A document as an object URL, fetched once per call. */
  async blobOf(documentId) {
    let entry = this.urls.get(documentId);
    if (!entry) {
      const response = await fetch(api.documentUrl(documentId), { credentials: 'same-origin', cache: 'no-store' });
      if (!response.ok) throw new Error(response.status === 404 ? t('documents.gone') : `HTTP ${response.status}`);
      const blob = await response.blob();
      entry = { href: URL.createObjectURL(blob), type: blob.type, size: blob.size };
      this.urls.set(documentId, entry);
    }
    return entry;
  }

  async open(documentId) {
    this.current = documentId;
    this.render();
    // render() has just made it.
    const viewer = /** @type {HTMLElement} */ (this.querySelector('.viewer'));
    try {
      const doc = this.docs.find((item) => item.document_id === documentId);
      // A scan's small preview comes first: it shows the page while the PDF is fetched.
      const preview = doc?.preview_id ? await this.blobOf(doc.preview_id).catch(() => null) : null;
      const kindName = t(`documents.kind.${doc?.kind ?? 'scan'}`);
      if (preview && this.current === documentId) {
        mount(viewer, h('img', { src: preview.href, alt: kindName, class: 'doc-preview' }));
      }
      const entry = await this.blobOf(documentId);
      if (this.current !== documentId) return;
      const fileName = `${documentId}${entry.type === 'application/pdf' ? '.pdf' : '.jpg'}`;
      let view;
      if (entry.type.startsWith('image/')) {
        view = h('img', { src: entry.href, alt: kindName, class: 'doc-image' });
      } else if (preview) {
        // A scan: its preview, and the PDF (every page, full resolution) a click away.
        const open = { href: entry.href, target: '_blank', rel: 'noopener' };
        view = h(
          'div',
          { class: 'doc-scan' },
          h('a', { ...open, class: 'doc-preview-link', title: t('documents.open') }, h('img', { src: preview.href, alt: kindName, class: 'doc-preview' })),
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
            this.docs.map((doc) =>
              h(
                'li',
                {},
                h(
                  'button',
                  {
                    type: 'button',
                    class: ['link', doc.document_id === this.current ? 'current' : ''],
                    dataset: { documentId: doc.document_id, kind: doc.kind },
                    onclick: () => this.open(doc.document_id),
                  },
                  t(`documents.kind.${doc.kind}`),
                  doc.name ? ` · ${doc.name}` : '',
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, t('documents.none')),
      h('div', { class: 'viewer', dataset: {} }),
    );
  }
}

customElements.define('cab-documents', CabDocuments);
