/**
 * The data layer: datasets, loaders, transforms, augmentation, shortcut injection, label randomization.
 *
 * @packageDocumentation
 */
export * from './dataset.js';
export * from './medmnist.js';
export * from './image-folder.js';
export * from './balance.js';
export * from './resize.js';
export * from './transforms.js';
export * from './augment.js';
export * from './font.js';
export * from './shortcut.js';
export * from './labels.js';
export * from './medical-folder.js';
