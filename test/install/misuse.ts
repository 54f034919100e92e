// Install test (c): misuses of the public API that must NOT compile. scripts/install-test.sh
// runs tsc on this file and requires exactly the errors marked `// expect TSxxxx` (same line).
import { F, nn, optim, randn, tensor, zeros, type Tensor } from 'webgrad';

const x: Tensor = randn(2, 3);
new nn.Linear('784', 10); // expect TS2345
new optim.SGD(new nn.Linear(3, 1).parameters(), { lr: '0.1' }); // expect TS2322
tensor('x'); // expect TS2345
randn('a'); // expect TS2345
zeros(2, { dtype: 'float64' }); // expect TS2345
F.linear(x, [1, 2, 3]); // expect TS2345
const n: number = x.item(); // expect TS2322
x.sum().backward(5); // expect TS2345
export { n };
