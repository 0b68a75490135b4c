/** A contact's card (read view), a directory person's card, and the avatar (photo or initials). */
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ArrowLeft, Cake, Mail, MapPin, Pencil, Phone, StickyNote, Tag, Trash2, UserPlus } from 'lucide-react';
import { errorText, useI18n, type TFunction } from '../../app/i18n';
import { Link, navigate } from '../../app/router';
import { Button } from '../../ui/Button';
import { ConfirmDialog } from '../../ui/Dialog';
import { SelectField } from '../../ui/Field';
import { useToast } from '../../ui/Toast';
import { hrefOf } from './links';
import { contactsKey, createContact, deleteContact, initials, photoUrl, type Book, type Contact, type Person } from './api';

const PALETTE = 6;
function hueOf(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 997;
  return h % PALETTE;
}

export function Avatar({ name, book, contact, size }: { name: string; book?: string; contact?: Pick<Contact, 'id' | 'etag' | 'hasPhoto'>; size: 36 | 96 }) {
  const [broken, setBroken] = useState(false);
  if (book && contact?.hasPhoto && !broken)
    return <img className={`ct-avatar ct-avatar-${size}`} src={photoUrl(book, contact)} alt="" width={size} height={size} loading="lazy" decoding="async" onError={() => setBroken(true)} />;
  return (
    <span className={`ct-avatar ct-avatar-${size} ct-hue-${hueOf(name)}`} aria-hidden="true">
      {initials(name)}
    </span>
  );
}

/** "work" → "Work" in the user's language (vCard TYPE values; unknown ones are shown as they are). */
export function typeLabel(t: TFunction, type: string | undefined): string {
  const k = (type ?? '').toLowerCase().split(',').find((x) => ['work', 'home', 'cell', 'mobile', 'fax', 'voice', 'other', 'pref', 'internet'].includes(x) && x !== 'pref' && x !== 'internet' && x !== 'voice');
  switch (k) {
    case 'work':
      return t('contacts.type.work');
    case 'home':
      return t('contacts.type.home');
    case 'cell':
    case 'mobile':
      return t('contacts.type.cell');
    case 'fax':
      return t('contacts.type.fax');
    case 'other':
      return t('contacts.type.other');
    default:
      return type ? type.toLowerCase() : '';
  }
}

function BackLink({ href }: { href: string }) {
  const { t } = useI18n();
  return (
    <Link href={href} className="ct-back">
      <ArrowLeft size={18} aria-hidden="true" />
      <span>{t('contacts.back')}</span>
    </Link>
  );
}

export function ContactCard({ book, contact: c, group, backHref }: { book: Book; contact: Contact; group: string | null; backHref: string }) {
  const { t, fmt } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const [confirm, setConfirm] = useState(false);
  const birthday = c.birthday ? Date.UTC(Number(c.birthday.slice(0, 4)), Number(c.birthday.slice(5, 7)) - 1, Number(c.birthday.slice(8, 10)), 12) : null;
  return (
    <article className="ct-card" aria-labelledby="ct-card-name" data-testid="contact-card">
      <BackLink href={backHref} />
      <header className="ct-card-head">
        <Avatar name={c.fn} book={book.id} contact={c} size={96} />
        <div className="ct-card-id">
          <h2 id="ct-card-name" className="ct-card-name">
            {c.fn}
          </h2>
          {(c.title || c.org) && <p className="muted">{[c.title, c.org].filter(Boolean).join(' · ')}</p>}
          {c.categories.length > 0 && (
            <ul className="ct-chips" aria-label={t('contacts.groups')}>
              {c.categories.map((g) => (
                <li key={g} className="ct-chip">
                  <Tag size={12} aria-hidden="true" />
                  {g}
                </li>
              ))}
            </ul>
          )}
        </div>
        <div className="ct-card-actions">
          <Link href={hrefOf({ book: book.id, group, contact: c.id, mode: 'edit' })} className="btn btn-secondary btn-sm">
            <Pencil size={16} aria-hidden="true" />
            <span>{t('contacts.edit')}</span>
          </Link>
          <Button size="sm" variant="ghost" icon={<Trash2 size={16} aria-hidden="true" />} onClick={() => setConfirm(true)}>
            {t('contacts.delete')}
          </Button>
        </div>
      </header>
      <dl className="ct-fields">
        {c.emails.map((e, i) => (
          <div key={`e${i}`} className="ct-field">
            <dt>
              <Mail size={16} aria-hidden="true" />
              <span>{typeLabel(t, e.type) || t('contacts.email')}</span>
            </dt>
            <dd>
              <a href={`mailto:${e.value}`}>{e.value}</a>
            </dd>
          </div>
        ))}
        {c.phones.map((p, i) => (
          <div key={`p${i}`} className="ct-field">
            <dt>
              <Phone size={16} aria-hidden="true" />
              <span>{typeLabel(t, p.type) || t('contacts.phone')}</span>
            </dt>
            <dd>
              <a href={`tel:${p.value.replace(/[^\d+]/g, '')}`}>{p.value}</a>
            </dd>
          </div>
        ))}
        {c.addresses.map((a, i) => (
          <div key={`a${i}`} className="ct-field">
            <dt>
              <MapPin size={16} aria-hidden="true" />
              <span>{typeLabel(t, a.type) || t('contacts.address')}</span>
            </dt>
            <dd className="ct-address">
              {[a.street, [a.postalCode, a.locality].filter(Boolean).join(' '), a.region, a.country].filter(Boolean).join('\n')}
            </dd>
          </div>
        ))}
        {birthday !== null && (
          <div className="ct-field">
            <dt>
              <Cake size={16} aria-hidden="true" />
              <span>{t('contacts.birthday')}</span>
            </dt>
            <dd>{fmt.dateLong(birthday)}</dd>
          </div>
        )}
        {c.note && (
          <div className="ct-field">
            <dt>
              <StickyNote size={16} aria-hidden="true" />
              <span>{t('contacts.note')}</span>
            </dt>
            <dd className="ct-note">{c.note}</dd>
          </div>
        )}
      </dl>
      {c.emails.length + c.phones.length + c.addresses.length === 0 && !c.note && birthday === null && <p className="muted">{t('contacts.noDetails')}</p>}
      <ConfirmDialog
        isOpen={confirm}
        onClose={() => setConfirm(false)}
        title={t('contacts.deleteTitle')}
        body={t('contacts.deleteBody', { name: c.fn })}
        confirmLabel={t('contacts.delete')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          await deleteContact(book.id, c.id);
          qc.setQueryData<Contact[]>(contactsKey(book.id), (old) => old?.filter((x) => x.id !== c.id));
          void qc.invalidateQueries({ queryKey: contactsKey(book.id) });
          toast(t('contacts.deleted', { name: c.fn }), 'success');
          navigate(backHref);
        }}
      />
    </article>
  );
}

/** A person of the organisation's directory (read-only), with "add to my contacts". */
export function PersonCard({ person: p, books, backHref }: { person: Person; books: Book[]; backHref: string }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const [target, setTarget] = useState(books[0]?.id ?? '');
  const add = useMutation({
    mutationFn: () => createContact(target, { fn: p.displayName, emails: p.email ? [{ value: p.email, type: 'work' }] : [], categories: [] }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: contactsKey(target) });
      toast(t('contacts.copied', { name: p.displayName }), 'success');
    },
    onError: (e) => toast(errorText(t, e), 'error'),
  });
  return (
    <article className="ct-card" aria-labelledby="ct-card-name" data-testid="person-card">
      <BackLink href={backHref} />
      <header className="ct-card-head">
        <Avatar name={p.displayName} size={96} />
        <div className="ct-card-id">
          <h2 id="ct-card-name" className="ct-card-name">
            {p.displayName}
          </h2>
          <p className="muted">{t('contacts.inDirectory')}</p>
        </div>
      </header>
      <dl className="ct-fields">
        {p.email && (
          <div className="ct-field">
            <dt>
              <Mail size={16} aria-hidden="true" />
              <span>{t('contacts.email')}</span>
            </dt>
            <dd>
              <a href={`mailto:${p.email}`}>{p.email}</a>
            </dd>
          </div>
        )}
        <div className="ct-field">
          <dt>{t('contacts.login')}</dt>
          <dd>{p.login}</dd>
        </div>
        {p.groups.length > 0 && (
          <div className="ct-field">
            <dt>{t('contacts.orgGroups')}</dt>
            <dd>{p.groups.join(', ')}</dd>
          </div>
        )}
      </dl>
      {books.length > 0 && (
        <form
          className="ct-copy"
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate();
          }}
        >
          {books.length > 1 && <SelectField label={t('contacts.copyTo')} value={target} onChange={setTarget} options={books.map((b) => ({ value: b.id, label: b.name }))} />}
          <Button type="submit" icon={<UserPlus size={16} aria-hidden="true" />} loading={add.isPending}>
            {t('contacts.copy')}
          </Button>
        </form>
      )}
    </article>
  );
}
