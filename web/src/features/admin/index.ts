export { UsersPage } from './UsersPage';
export { UserDetailPage } from './UserDetailPage';
export { GroupsPage } from './GroupsPage';
export { GroupDetailPage } from './GroupDetailPage';
export { AuditPage } from './AuditPage';
