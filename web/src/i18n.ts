// Every string the console shows, in English and French. The language comes from the user's
// choice (kept in localStorage), else from the browser's languages. The French dictionary is typed
// by the English one's keys, so a string left untranslated fails the build.
import { signal } from './signal';

const en = {
  'app.name': 'Ciel',
  'lang.label': 'Language',
  'login.title': 'Sign in to Ciel',
  'login.username': 'User name',
  'login.password': 'Password',
  'login.domain': 'Domain',
  'login.submit': 'Sign in',
  'login.failed': 'The user name or the password is wrong.',
  'login.error': 'Signing in failed: {0}',
  'session.signout': 'Sign out',
  'session.project': 'Project',
  'session.user': 'Signed in as {0}',
  'nav.files': 'Files',
  'files.title': 'Files',
  'files.home': 'Home',
  'files.empty': 'This folder is empty.',
  'files.name': 'Name',
  'files.size': 'Size',
  'files.modified': 'Modified',
  'files.actions': 'Actions',
  'files.upload': 'Upload files',
  'files.uploadFolder': 'Upload a folder',
  'files.newFolder': 'New folder',
  'files.newFolderName': 'Name of the new folder',
  'files.create': 'Create',
  'files.cancel': 'Cancel',
  'files.delete': 'Delete',
  'files.deleteConfirm': 'Move "{0}" to the trash?',
  'files.download': 'Download',
  'files.folder': 'Folder',
  'files.loading': 'Loading…',
  'files.error': 'The folder could not be read: {0}',
  'nav.compute': 'Servers',
  'compute.title': 'Servers',
  'compute.launch': 'Launch a server',
  'compute.name': 'Name',
  'compute.image': 'Image',
  'compute.flavor': 'Flavor',
  'compute.keypair': 'Key pair',
  'compute.noKey': '(none)',
  'compute.userData': 'User data (script or cloud-config)',
  'compute.launchButton': 'Launch',
  'compute.status': 'Status',
  'compute.ssh': 'SSH',
  'compute.none': 'No server yet.',
  'compute.start': 'Start',
  'compute.stop': 'Stop',
  'compute.reboot': 'Reboot',
  'compute.delete': 'Delete',
  'compute.deleteConfirm': 'Delete the server "{0}" and its disk?',
  'compute.console': 'Console log',
  'compute.consoleOf': 'Console log of {0}',
  'compute.refresh': 'Refresh',
  'compute.close': 'Close',
  'compute.keypairs': 'Key pairs',
  'compute.keyName': 'Name of the key pair',
  'compute.createKey': 'Create a key pair',
  'compute.publicKey': 'Public key to import (leave empty to have one made)',
  'compute.privateOnce': 'The private key of "{0}" is shown this once: download it now.',
  'compute.downloadKey': 'Download the private key',
  'compute.fingerprint': 'Fingerprint',
  'compute.images': 'Images',
  'compute.imageName': 'Name of the image',
  'compute.format': 'Disk format',
  'compute.imageFile': 'Image file',
  'compute.uploadImage': 'Upload the image',
  'compute.size': 'Size',
  'nav.storage': 'Storage',
  'nav.keys': 'S3 keys',
  'storage.title': 'Object storage',
  'storage.container': 'Container',
  'storage.objects': 'Objects',
  'storage.usage': 'Size',
  'storage.public': 'Public',
  'storage.newName': 'Name of the new container',
  'storage.create': 'Create a container',
  'storage.none': 'No container yet.',
  'storage.empty': 'No object here.',
  'storage.upload': 'Upload objects',
  'storage.deleteContainer': 'Delete the container',
  'storage.deleteConfirm': 'Delete "{0}" for good?',
  'storage.publicUrl': 'Public address: {0}',
  'keys.title': 'S3 credentials',
  'keys.intro': 'Keys for S3 clients (aws, boto3, s3cmd, rclone) acting on project {0}. S3 endpoint: {1}',
  'keys.create': 'Create a key',
  'keys.access': 'Access key',
  'keys.secret': 'Secret key',
  'keys.secretOnce': 'Copy the secret now: it is shown this once.',
  'keys.none': 'No key yet.',
  'keys.delete': 'Delete',
  'keys.project': 'Project',
  'files.rename': 'Rename',
  'files.renameTo': 'New name of "{0}"',
  'files.save': 'Save',
  'nav.trash': 'Trash',
  'trash.title': 'Trash',
  'trash.empty': 'The trash is empty.',
  'trash.original': 'Original location',
  'trash.deleted': 'Deleted',
  'trash.restore': 'Restore',
  'trash.purge': 'Delete for good',
  'trash.purgeConfirm': 'Delete "{0}" for good? It cannot be restored afterwards.',
  'trash.restored': '"{0}" is back in {1}.',
  'upload.progress': 'Uploading {0} of {1} files',
  'upload.done': 'Uploaded {0} files',
  'upload.failed': 'The upload of {0} failed: {1}',
  'upload.overall': 'Overall progress',
  'error.generic': 'Something went wrong: {0}',
};

type Key = keyof typeof en;

// The French dictionary must have every key of the English one (a missing key is a type error).
const fr: Record<Key, string> = {
  'app.name': 'Ciel',
  'lang.label': 'Langue',
  'login.title': 'Connexion à Ciel',
  'login.username': "Nom d'utilisateur",
  'login.password': 'Mot de passe',
  'login.domain': 'Domaine',
  'login.submit': 'Se connecter',
  'login.failed': "Le nom d'utilisateur ou le mot de passe est incorrect.",
  'login.error': 'La connexion a échoué : {0}',
  'session.signout': 'Se déconnecter',
  'session.project': 'Projet',
  'session.user': 'Connecté en tant que {0}',
  'nav.files': 'Fichiers',
  'files.title': 'Fichiers',
  'files.home': 'Accueil',
  'files.empty': 'Ce dossier est vide.',
  'files.name': 'Nom',
  'files.size': 'Taille',
  'files.modified': 'Modifié',
  'files.actions': 'Actions',
  'files.upload': 'Envoyer des fichiers',
  'files.uploadFolder': 'Envoyer un dossier',
  'files.newFolder': 'Nouveau dossier',
  'files.newFolderName': 'Nom du nouveau dossier',
  'files.create': 'Créer',
  'files.cancel': 'Annuler',
  'files.delete': 'Supprimer',
  'files.deleteConfirm': 'Mettre « {0} » à la corbeille ?',
  'files.download': 'Télécharger',
  'files.folder': 'Dossier',
  'files.loading': 'Chargement…',
  'files.error': "Le dossier n'a pas pu être lu : {0}",
  'nav.compute': 'Serveurs',
  'compute.title': 'Serveurs',
  'compute.launch': 'Lancer un serveur',
  'compute.name': 'Nom',
  'compute.image': 'Image',
  'compute.flavor': 'Gabarit',
  'compute.keypair': 'Paire de clés',
  'compute.noKey': '(aucune)',
  'compute.userData': 'Données utilisateur (script ou cloud-config)',
  'compute.launchButton': 'Lancer',
  'compute.status': 'État',
  'compute.ssh': 'SSH',
  'compute.none': 'Aucun serveur pour le moment.',
  'compute.start': 'Démarrer',
  'compute.stop': 'Arrêter',
  'compute.reboot': 'Redémarrer',
  'compute.delete': 'Supprimer',
  'compute.deleteConfirm': 'Supprimer le serveur « {0} » et son disque ?',
  'compute.console': 'Journal de console',
  'compute.consoleOf': 'Journal de console de {0}',
  'compute.refresh': 'Actualiser',
  'compute.close': 'Fermer',
  'compute.keypairs': 'Paires de clés',
  'compute.keyName': 'Nom de la paire de clés',
  'compute.createKey': 'Créer une paire de clés',
  'compute.publicKey': 'Clé publique à importer (vide : une paire est créée)',
  'compute.privateOnce': 'La clé privée de « {0} » n’est affichée qu’une fois : téléchargez-la maintenant.',
  'compute.downloadKey': 'Télécharger la clé privée',
  'compute.fingerprint': 'Empreinte',
  'compute.images': 'Images',
  'compute.imageName': "Nom de l'image",
  'compute.format': 'Format du disque',
  'compute.imageFile': "Fichier de l'image",
  'compute.uploadImage': "Envoyer l'image",
  'compute.size': 'Taille',
  'nav.storage': 'Stockage',
  'nav.keys': 'Clés S3',
  'storage.title': 'Stockage objet',
  'storage.container': 'Conteneur',
  'storage.objects': 'Objets',
  'storage.usage': 'Taille',
  'storage.public': 'Public',
  'storage.newName': 'Nom du nouveau conteneur',
  'storage.create': 'Créer un conteneur',
  'storage.none': 'Aucun conteneur pour le moment.',
  'storage.empty': 'Aucun objet ici.',
  'storage.upload': 'Envoyer des objets',
  'storage.deleteContainer': 'Supprimer le conteneur',
  'storage.deleteConfirm': 'Supprimer définitivement « {0} » ?',
  'storage.publicUrl': 'Adresse publique : {0}',
  'keys.title': 'Identifiants S3',
  'keys.intro': 'Clés pour les clients S3 (aws, boto3, s3cmd, rclone) agissant sur le projet {0}. Point d’accès S3 : {1}',
  'keys.create': 'Créer une clé',
  'keys.access': "Clé d'accès",
  'keys.secret': 'Clé secrète',
  'keys.secretOnce': 'Copiez la clé secrète maintenant : elle ne sera plus affichée.',
  'keys.none': 'Aucune clé pour le moment.',
  'keys.delete': 'Supprimer',
  'keys.project': 'Projet',
  'files.rename': 'Renommer',
  'files.renameTo': 'Nouveau nom de « {0} »',
  'files.save': 'Enregistrer',
  'nav.trash': 'Corbeille',
  'trash.title': 'Corbeille',
  'trash.empty': 'La corbeille est vide.',
  'trash.original': "Emplacement d'origine",
  'trash.deleted': 'Supprimé',
  'trash.restore': 'Restaurer',
  'trash.purge': 'Supprimer définitivement',
  'trash.purgeConfirm': 'Supprimer définitivement « {0} » ? Il ne pourra plus être restauré.',
  'trash.restored': '« {0} » est de retour dans {1}.',
  'upload.progress': 'Envoi de {0} fichiers sur {1}',
  'upload.done': '{0} fichiers envoyés',
  'upload.failed': "L'envoi de {0} a échoué : {1}",
  'upload.overall': 'Progression totale',
  'error.generic': "Une erreur s'est produite : {0}",
};

export type Lang = 'en' | 'fr';
const dictionaries: Record<Lang, Record<Key, string>> = { en, fr };

function initialLang(): Lang {
  const saved = localStorage.getItem('ciel.lang');
  if (saved === 'en' || saved === 'fr') return saved;
  for (const l of navigator.languages ?? [navigator.language]) {
    if (l.toLowerCase().startsWith('fr')) return 'fr';
    if (l.toLowerCase().startsWith('en')) return 'en';
  }
  return 'en';
}

export const lang = signal<Lang>(initialLang());

export function setLang(l: Lang) {
  localStorage.setItem('ciel.lang', l);
  document.documentElement.lang = l;
  lang.set(l);
}

export function t(key: Key, ...args: (string | number)[]): string {
  let s = dictionaries[lang.get()][key];
  args.forEach((a, i) => { s = s.replace(`{${i}}`, String(a)); });
  return s;
}

export function formatSize(bytes: number): string {
  const units = lang.get() === 'fr' ? ['o', 'Ko', 'Mo', 'Go', 'To'] : ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  const n = u === 0 ? String(v) : v.toLocaleString(lang.get(), { maximumFractionDigits: 1 });
  return `${n} ${units[u]}`;
}

export function formatDate(d: Date): string {
  return d.toLocaleString(lang.get(), { dateStyle: 'medium', timeStyle: 'short' });
}
