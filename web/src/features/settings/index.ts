export { ProfilePage } from './ProfilePage';
export { SecurityPage } from './SecurityPage';
