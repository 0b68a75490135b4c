/**
 * The shell's overlays (profile menu, "More" menu, notifications popover, shortcuts dialog) and the
 * react-aria-components code they need: one chunk, loaded right after the shell has rendered.
 */
export { ProfileMenu } from './ProfileMenu';
export { MoreMenu } from './MoreMenu';
export { NotificationsPopover } from './NotificationsPopover';
export { ShortcutsDialog } from './Shortcuts';
