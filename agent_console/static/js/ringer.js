// The ring: a looping chime, the tab's title, and a desktop notification when the tab is hidden.

export class Ringer {
  constructor(src = 'sounds/ring.wav') {
    this.audio = new Audio(src);
    this.audio.loop = true;
    this.audio.preload = 'auto';
    this.title = document.title;
    this.notification = null;
    this.ringing = false;
  }

  /** Ask once for notifications, from a click (browsers only allow it then). */
  static askPermission() {
    if ('Notification' in window && Notification.permission === 'default') {
      Notification.requestPermission().catch(() => {});
    }
  }

  start(title, body) {
    this.ringing = true;
    this.audio.currentTime = 0;
    // Autoplay can be refused before the first click; the visible ring still shows.
    this.audio.play().catch(() => {});
    document.title = `☎ ${title}`;
    if (document.hidden && 'Notification' in window && Notification.permission === 'granted') {
      this.notification = new Notification(title, { body, tag: 'cabina-ring', requireInteraction: true });
      this.notification.addEventListener('click', () => window.focus());
    }
  }

  stop() {
    if (!this.ringing) return;
    this.ringing = false;
    this.audio.pause();
    document.title = this.title;
    this.notification?.close();
    this.notification = null;
  }
}
