"""The spring 2023 full-marks notebook of problem 4."""

from example_sources.notebooks import code, md, notebook

# --------------------------------------------------------------------------- problem 4 (spring)

SPRING_P4_NB = notebook([
    md("intro", """\
# Problem 4 - FashionMNIST classifier

Fully connected network 784-256-128-64-10, ReLU activations, trained with cross entropy and Adam."""),
    code("imports", """\
import torch
from torch import nn, optim
import torchvision
import torchvision.transforms as transforms
import matplotlib.pyplot as plt
import numpy as np

torch.manual_seed(0)  # same shuffles and initial weights every run

# Set device
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("using", device)"""),
    code("data", """\
# Load FashionMNIST dataset
TrainSet = torchvision.datasets.FashionMNIST(root='./FashionMNIST/', train=True, download=True,
                                             transform=transforms.ToTensor())
TestSet = torchvision.datasets.FashionMNIST(root='./FashionMNIST/', train=False, download=True,
                                            transform=transforms.ToTensor())
TrainLoader = torch.utils.data.DataLoader(TrainSet, batch_size=128, shuffle=True)
TestLoader = torch.utils.data.DataLoader(TestSet, batch_size=128, shuffle=False)"""),
    code("model", """\
# Define model
model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(784, 256), nn.ReLU(),
    nn.Linear(256, 128), nn.ReLU(),
    nn.Linear(128, 64), nn.ReLU(),
    nn.Linear(64, 10),
).to(device)

criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.001)"""),
    code("train", """\
# Train model
num_epochs = 6
train_loss_list = []
test_loss_list = []

for epoch in range(num_epochs):
    model.train()
    batch_losses = []
    for images, labels in TrainLoader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        batch_losses.append(loss.item())
    train_loss_list.append(np.mean(batch_losses))

    model.eval()
    with torch.no_grad():
        batch_losses = [criterion(model(images.to(device)), labels.to(device)).item()
                        for images, labels in TestLoader]
    test_loss_list.append(np.mean(batch_losses))
    print('Epoch: {} \\tTraining Loss: {:.6f} \\tTest Loss: {:.6f}'.format(
        epoch + 1, train_loss_list[-1], test_loss_list[-1]))"""),
    code("curves", """\
# Plot loss curves
plt.figure(figsize=(6, 4))
plt.plot(range(1, num_epochs + 1), train_loss_list, 'o-', label='Training loss')
plt.plot(range(1, num_epochs + 1), test_loss_list, 's--', label='Test loss')
plt.xlabel('Epoch')
plt.ylabel('Loss')
plt.legend()
plt.show()"""),
    code("evaluate", """\
# Evaluate model
correct, total = 0, 0
model.eval()
with torch.no_grad():
    for images, labels in TestLoader:
        images, labels = images.to(device), labels.to(device)
        predicted = model(images).argmax(1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()
test_acc = 100 * correct / total
print(f"Final test accuracy: {test_acc:.2f}%")"""),
    code("probabilities", """\
classes = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt',
           'Sneaker', 'Bag', 'Ankle boot']

# three test images and the predicted class probabilities
imgs, lbls = next(iter(TestLoader))
imgs, lbls = imgs[:3], lbls[:3]
with torch.no_grad():
    p = nn.functional.softmax(model(imgs.to(device)), dim=1).cpu()

plt.figure(figsize=(15, 4))
for k in range(3):
    plt.subplot(1, 6, 2 * k + 1)
    plt.imshow(imgs[k][0], cmap='gray')
    plt.title('True: ' + classes[lbls[k]])
    plt.axis('off')
    plt.subplot(1, 6, 2 * k + 2)
    plt.barh(classes, p[k].numpy())
    plt.xlim(0, 1)
    plt.title('Predicted: ' + classes[p[k].argmax()])
plt.tight_layout()
plt.show()"""),
    md("comments", """\
The network is very sure about the ankle boot and the trouser. For the pullover most of the
probability is on Pullover, with some on Coat and Shirt, which look alike at this resolution. These
three upper-body classes are where most of the test errors come from."""),
])
