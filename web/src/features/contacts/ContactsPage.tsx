/**
 * Contacts: address books (and the organisation's directory, read-only) in the second column, the
 * contacts of the chosen book (alphabetical, letter headers, search as you type, windowed) and the
 * contact's card or edit form on the right. On a phone the list and the card are two screens.
 * URL: ?book=<id>|directory &contact=<id> &mode=edit|new &group=<name>
 */
import { useDeferredValue, useMemo, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { BookUser, Building2, Download, Pencil, Plus, Search, Tag, Trash2, Upload, UserPlus, Users } from 'lucide-react';
import { errorText, useI18n } from '../../app/i18n';
import { QueryView } from '../../app/QueryView';
import { Link, navigate, useSearchParams } from '../../app/router';
import { Button, IconButton } from '../../ui/Button';
import { AppDialog, ConfirmDialog } from '../../ui/Dialog';
import { FormError, TextField } from '../../ui/Field';
import { useDocumentTitle } from '../../ui/Page';
import { EmptyState } from '../../ui/States';
import { useToast } from '../../ui/Toast';
import {
  booksKey,
  contactsKey,
  createBook,
  deleteBook,
  directoryKey,
  exportUrl,
  letterOf,
  listBooks,
  listContacts,
  listDirectory,
  renameBook,
  type Book,
  type Contact,
  type Person,
} from './api';
import { Avatar, ContactCard, PersonCard } from './ContactCard';
import { ContactForm } from './ContactForm';
import { ImportDialog, useImporter } from './ImportDialog';
import { DIRECTORY, fold, hrefOf } from './links';
import { useLiveContacts } from './useLive';
import { VirtualList, type Row } from './VirtualList';
import './contacts.css';

export default function ContactsPage() {
  const { t } = useI18n();
  const params = useSearchParams();
  const books = useQuery({ queryKey: booksKey, queryFn: ({ signal }) => listBooks(signal) });
  const bookParam = params.get('book');
  const list = books.data ?? [];
  const bookId = bookParam === DIRECTORY ? DIRECTORY : (list.find((b) => b.id === bookParam)?.id ?? list[0]?.id ?? null);
  const contactId = params.get('contact');
  const mode = params.get('mode');
  const group = params.get('group');
  const book = list.find((b) => b.id === bookId) ?? null;
  const importer = useImporter();
  useLiveContacts();
  useDocumentTitle(bookId === DIRECTORY ? `${t('contacts.directory')} · ${t('app.contacts')}` : book ? `${book.name} · ${t('app.contacts')}` : t('app.contacts'));

  const detailOpen = Boolean(contactId) || mode === 'new';
  return (
    <div className={`ct-layout${detailOpen ? ' ct-detail-open' : ''}`}>
      <BooksColumn books={books.data} loading={books.isPending} current={bookId} group={group} />
      <div className="ct-list-col">
        {books.isError ? (
          <QueryView query={books} errorTitle={t('contacts.booksError')}>
            {() => null}
          </QueryView>
        ) : bookId === DIRECTORY ? (
          <DirectoryList selected={contactId} />
        ) : book ? (
          <BookList book={book} selected={contactId} group={group} onImport={importer.open} />
        ) : (
          <div className="ct-pad">
            <QueryView query={books} errorTitle={t('contacts.booksError')}>
              {() => <EmptyState icon={<BookUser size={28} />} title={t('contacts.noBooks')} />}
            </QueryView>
          </div>
        )}
      </div>
      <div className="ct-detail-col">
        {bookId === DIRECTORY ? (
          contactId ? <DirectoryDetail id={contactId} books={list} /> : <NoSelection />
        ) : book && (contactId || mode === 'new') ? (
          <BookDetail key={`${book.id}:${contactId ?? 'new'}:${mode ?? ''}`} book={book} contactId={contactId} mode={mode} group={group} />
        ) : (
          <NoSelection />
        )}
      </div>
      {book && <ImportDialog importer={importer} book={book} />}
    </div>
  );
}

function NoSelection() {
  const { t } = useI18n();
  return (
    <div className="ct-none">
      <EmptyState icon={<BookUser size={28} />} title={t('contacts.pickOne')}>
        {t('contacts.pickOneHint')}
      </EmptyState>
    </div>
  );
}

/** The second column: address books, the directory, and the groups of the current book. */
function BooksColumn({ books, loading, current, group }: { books: Book[] | undefined; loading: boolean; current: string | null; group: string | null }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const toast = useToast();
  const [dialog, setDialog] = useState<null | { kind: 'create' } | { kind: 'rename'; book: Book } | { kind: 'delete'; book: Book }>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: async () => {
      if (dialog?.kind === 'create') return createBook(name.trim());
      if (dialog?.kind === 'rename') return renameBook(dialog.book.id, name.trim());
      return null;
    },
    onSuccess: (b) => {
      void qc.invalidateQueries({ queryKey: booksKey });
      if (b && dialog?.kind === 'create') navigate(hrefOf({ book: b.id }));
      setDialog(null);
    },
    onError: (e) => setError(errorText(t, e)),
  });
  const groups = useGroups(current && current !== DIRECTORY ? current : null);
  const open = (d: NonNullable<typeof dialog>) => {
    setError(null);
    setName(d.kind === 'rename' ? d.book.name : '');
    setDialog(d);
  };
  return (
    <aside className="ct-side" aria-label={t('contacts.booksNav')}>
      <div className="ct-side-head">
        <h1 className="ct-side-title">{t('app.contacts')}</h1>
        <IconButton label={t('contacts.newBook')} icon={<Plus size={18} aria-hidden="true" />} onClick={() => open({ kind: 'create' })} />
      </div>
      <nav aria-label={t('contacts.books')}>
        <ul className="ct-books">
          {loading && <li className="muted small">{t('common.loading')}</li>}
          {(books ?? []).map((b) => (
            <li key={b.id} className="ct-book">
              <Link href={hrefOf({ book: b.id })} className="ct-side-link" aria-current={current === b.id && !group ? 'page' : undefined}>
                <BookUser size={18} aria-hidden="true" />
                <span>{b.name}</span>
              </Link>
              {current === b.id && (
                <span className="ct-book-actions">
                  <IconButton label={t('contacts.renameBook', { name: b.name })} icon={<Pencil size={16} aria-hidden="true" />} onClick={() => open({ kind: 'rename', book: b })} />
                  <IconButton label={t('contacts.deleteBook', { name: b.name })} icon={<Trash2 size={16} aria-hidden="true" />} onClick={() => setDialog({ kind: 'delete', book: b })} />
                </span>
              )}
            </li>
          ))}
          <li>
            <Link href={hrefOf({ book: DIRECTORY })} className="ct-side-link" aria-current={current === DIRECTORY ? 'page' : undefined}>
              <Building2 size={18} aria-hidden="true" />
              <span>{t('contacts.directory')}</span>
            </Link>
          </li>
        </ul>
        {groups.length > 0 && current && current !== DIRECTORY && (
          <>
            <h2 className="ct-side-sub">{t('contacts.groups')}</h2>
            <ul className="ct-books">
              {groups.map(([g, n]) => (
                <li key={g}>
                  <Link href={hrefOf({ book: current, group: g })} className="ct-side-link" aria-current={group === g ? 'page' : undefined}>
                    <Tag size={16} aria-hidden="true" />
                    <span>{g}</span>
                    <span className="ct-count">{n}</span>
                  </Link>
                </li>
              ))}
            </ul>
          </>
        )}
      </nav>
      <AppDialog
        isOpen={dialog?.kind === 'create' || dialog?.kind === 'rename'}
        onClose={() => setDialog(null)}
        title={dialog?.kind === 'rename' ? t('contacts.renameBookTitle') : t('contacts.newBook')}
        closeLabel={t('common.close')}
        size="sm"
        footer={
          <>
            <Button onClick={() => setDialog(null)}>{t('common.cancel')}</Button>
            <Button variant="primary" type="submit" form="ct-book-form" loading={save.isPending}>
              {dialog?.kind === 'rename' ? t('common.save') : t('common.create')}
            </Button>
          </>
        }
      >
        <form
          id="ct-book-form"
          className="stack-sm"
          onSubmit={(e) => {
            e.preventDefault();
            if (!name.trim()) return setError(t('contacts.nameRequired'));
            save.mutate();
          }}
        >
          <TextField label={t('contacts.bookName')} value={name} onChange={setName} maxLength={200} autoFocus required />
          <FormError>{error}</FormError>
        </form>
      </AppDialog>
      <ConfirmDialog
        isOpen={dialog?.kind === 'delete'}
        onClose={() => setDialog(null)}
        title={t('contacts.deleteBookTitle')}
        body={dialog?.kind === 'delete' ? t('contacts.deleteBookBody', { name: dialog.book.name }) : ''}
        confirmLabel={t('contacts.deleteBookConfirm')}
        cancelLabel={t('common.cancel')}
        closeLabel={t('common.close')}
        danger
        errorText={(e) => errorText(t, e)}
        onConfirm={async () => {
          if (dialog?.kind !== 'delete') return;
          await deleteBook(dialog.book.id);
          toast(t('contacts.bookDeleted', { name: dialog.book.name }), 'success');
          await qc.invalidateQueries({ queryKey: booksKey });
          navigate('/contacts');
        }}
      />
    </aside>
  );
}

/** The groups (vCard CATEGORIES) of a book with their sizes, from the cached contacts. */
function useGroups(book: string | null): Array<[string, number]> {
  const q = useQuery({ queryKey: contactsKey(book ?? ''), queryFn: ({ signal }) => listContacts(book!, signal), enabled: Boolean(book) });
  return useMemo(() => {
    const m = new Map<string, number>();
    for (const c of q.data ?? []) for (const g of c.categories) m.set(g, (m.get(g) ?? 0) + 1);
    return [...m.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  }, [q.data]);
}

function rowsOf<T>(items: T[], nameOf: (x: T) => string, keyOf: (x: T) => string): Row<T>[] {
  const rows: Row<T>[] = [];
  let letter = '';
  for (const it of items) {
    const l = letterOf(nameOf(it));
    if (l !== letter) {
      letter = l;
      rows.push({ kind: 'header', key: `h:${l}`, label: l });
    }
    rows.push({ kind: 'item', key: keyOf(it), item: it });
  }
  return rows;
}

function SearchField({ value, onChange, label }: { value: string; onChange: (v: string) => void; label: string }) {
  return (
    <div className="ct-search" role="search">
      <Search size={16} aria-hidden="true" />
      <input type="search" value={value} onChange={(e) => onChange(e.target.value)} aria-label={label} placeholder={label} maxLength={200} data-testid="contacts-search" />
    </div>
  );
}

function matches(c: Contact, q: string): boolean {
  if (!q) return true;
  const hay = fold([c.fn, c.org, c.title, ...c.emails.map((e) => e.value), ...c.phones.map((p) => p.value), ...c.categories].join(' '));
  if (hay.includes(q)) return true;
  // Phone numbers match whatever their spacing.
  const digits = q.replace(/[^\d+]/g, '');
  return digits.length >= 3 && c.phones.some((p) => p.value.replace(/[^\d+]/g, '').includes(digits));
}

function BookList({ book, selected, group, onImport }: { book: Book; selected: string | null; group: string | null; onImport: (file?: File) => void }) {
  const { t, locale } = useI18n();
  const query = useQuery({ queryKey: contactsKey(book.id), queryFn: ({ signal }) => listContacts(book.id, signal) });
  const [q, setQ] = useState('');
  const deferred = useDeferredValue(fold(q.trim()));
  const collator = useMemo(() => new Intl.Collator(locale, { sensitivity: 'base', numeric: true }), [locale]);
  const shown = useMemo(() => {
    const all = (query.data ?? []).filter((c) => (!group || c.categories.includes(group)) && matches(c, deferred));
    return all.sort((a, b) => collator.compare(a.fn, b.fn));
  }, [query.data, deferred, group, collator]);
  const rows = useMemo(() => rowsOf(shown, (c) => c.fn, (c) => c.id), [shown]);
  const title = group ? t('contacts.groupTitle', { group }) : book.name;
  return (
    <div className="ct-list">
      <div className="ct-list-head">
        <h2 className="ct-list-title">
          {group ? <Tag size={18} aria-hidden="true" /> : <Users size={18} aria-hidden="true" />}
          <span>{title}</span>
        </h2>
        <div className="ct-list-actions">
          <Link href={hrefOf({ book: book.id, group, mode: 'new' })} className="btn btn-primary btn-sm">
            <UserPlus size={16} aria-hidden="true" />
            <span>{t('contacts.new')}</span>
          </Link>
          <IconButton label={t('contacts.import')} icon={<Upload size={18} aria-hidden="true" />} onClick={() => onImport()} />
          <a className="btn btn-ghost btn-icon" href={exportUrl(book.id)} download aria-label={t('contacts.export')} title={t('contacts.export')}>
            <Download size={18} aria-hidden="true" />
          </a>
        </div>
        <SearchField value={q} onChange={setQ} label={t('contacts.search')} />
      </div>
      <span className="visually-hidden" aria-live="polite">
        {query.data && deferred ? t('contacts.found', { count: shown.length }) : ''}
      </span>
      <QueryView
        query={query}
        errorTitle={t('contacts.listError')}
        isEmpty={(d) => d.length === 0}
        empty={
          <div className="ct-pad">
            <EmptyState
              icon={<Users size={28} />}
              title={t('contacts.empty')}
              action={
                <div className="ct-empty-actions">
                  <Link href={hrefOf({ book: book.id, mode: 'new' })} className="btn btn-primary">
                    <UserPlus size={16} aria-hidden="true" />
                    <span>{t('contacts.new')}</span>
                  </Link>
                  <Button icon={<Upload size={16} aria-hidden="true" />} onClick={() => onImport()}>
                    {t('contacts.import')}
                  </Button>
                </div>
              }
            >
              {t('contacts.emptyHint')}
            </EmptyState>
          </div>
        }
      >
        {() =>
          shown.length === 0 ? (
            <p className="ct-pad muted">{t('contacts.noMatch')}</p>
          ) : (
            <VirtualList
              rows={rows}
              rowHeight={56}
              headerHeight={28}
              label={t('contacts.listLabel', { name: title })}
              activeKey={selected}
              testId="contacts-list"
              renderItem={(c, props) => (
                <Link href={hrefOf({ book: book.id, group, contact: c.id })} className="ct-row" aria-current={c.id === selected ? 'true' : undefined} {...props}>
                  <Avatar name={c.fn} book={book.id} contact={c} size={36} />
                  <span className="ct-row-text">
                    <span className="ct-row-name">{c.fn}</span>
                    <span className="ct-row-sub">{c.emails[0]?.value ?? c.org ?? ''}</span>
                  </span>
                </Link>
              )}
            />
          )
        }
      </QueryView>
    </div>
  );
}

function DirectoryList({ selected }: { selected: string | null }) {
  const { t, locale } = useI18n();
  const query = useQuery({ queryKey: directoryKey, queryFn: ({ signal }) => listDirectory(signal) });
  const [q, setQ] = useState('');
  const deferred = useDeferredValue(fold(q.trim()));
  const collator = useMemo(() => new Intl.Collator(locale, { sensitivity: 'base', numeric: true }), [locale]);
  const shown = useMemo(
    () =>
      (query.data?.people ?? [])
        .filter((p) => !deferred || fold([p.displayName, p.login, p.email ?? '', ...p.groups].join(' ')).includes(deferred))
        .sort((a, b) => collator.compare(a.displayName, b.displayName)),
    [query.data, deferred, collator],
  );
  const rows = useMemo(() => rowsOf(shown, (p) => p.displayName, (p) => p.id), [shown]);
  return (
    <div className="ct-list">
      <div className="ct-list-head">
        <h2 className="ct-list-title">
          <Building2 size={18} aria-hidden="true" />
          <span>{t('contacts.directory')}</span>
        </h2>
        <p className="small muted ct-list-note">{query.data?.scope === 'spaces' ? t('contacts.directorySpaces') : t('contacts.directoryNote')}</p>
        <SearchField value={q} onChange={setQ} label={t('contacts.searchDirectory')} />
      </div>
      <span className="visually-hidden" aria-live="polite">
        {query.data && deferred ? t('contacts.found', { count: shown.length }) : ''}
      </span>
      <QueryView query={query} errorTitle={t('contacts.directoryError')}>
        {() =>
          shown.length === 0 ? (
            <p className="ct-pad muted">{t('contacts.noMatch')}</p>
          ) : (
            <VirtualList
              rows={rows}
              rowHeight={56}
              headerHeight={28}
              label={t('contacts.directory')}
              activeKey={selected}
              testId="directory-list"
              renderItem={(p: Person, props) => (
                <Link href={hrefOf({ book: DIRECTORY, contact: p.id })} className="ct-row" aria-current={p.id === selected ? 'true' : undefined} {...props}>
                  <Avatar name={p.displayName} size={36} />
                  <span className="ct-row-text">
                    <span className="ct-row-name">{p.displayName}</span>
                    <span className="ct-row-sub">{p.email ?? p.login}</span>
                  </span>
                </Link>
              )}
            />
          )
        }
      </QueryView>
    </div>
  );
}

function DirectoryDetail({ id, books }: { id: string; books: Book[] }) {
  const { t } = useI18n();
  const query = useQuery({ queryKey: directoryKey, queryFn: ({ signal }) => listDirectory(signal) });
  return (
    <QueryView query={query} errorTitle={t('contacts.directoryError')}>
      {(d) => {
        const p = d.people.find((x) => x.id === id);
        if (!p) return <EmptyState title={t('contacts.notFound')} action={<Link href={hrefOf({ book: DIRECTORY })}>{t('contacts.back')}</Link>} />;
        return <PersonCard person={p} books={books} backHref={hrefOf({ book: DIRECTORY })} />;
      }}
    </QueryView>
  );
}

function BookDetail({ book, contactId, mode, group }: { book: Book; contactId: string | null; mode: string | null; group: string | null }) {
  const { t } = useI18n();
  const query = useQuery({ queryKey: contactsKey(book.id), queryFn: ({ signal }) => listContacts(book.id, signal) });
  const back = hrefOf({ book: book.id, group });
  if (mode === 'new') return <ContactForm book={book} contact={null} group={group} backHref={back} />;
  return (
    <QueryView query={query} errorTitle={t('contacts.listError')}>
      {(list) => {
        const c = list.find((x) => x.id === contactId);
        if (!c) return <EmptyState title={t('contacts.notFound')} action={<Link href={back}>{t('contacts.back')}</Link>} />;
        if (mode === 'edit') return <ContactForm book={book} contact={c} group={group} backHref={hrefOf({ book: book.id, group, contact: c.id })} />;
        return <ContactCard book={book} contact={c} group={group} backHref={back} />;
      }}
    </QueryView>
  );
}
